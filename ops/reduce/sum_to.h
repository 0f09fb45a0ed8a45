// sum_to(input; shape): sums input down to `shape`, which must broadcast to input's shape — the
// adjoint of broadcasting, used by every broadcasting op's backward. grad = expand(g, input shape).
#pragma once
