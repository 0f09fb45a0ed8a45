// Everything a user of Osprey's tensor API includes: the Tensor, autograd controls and the C++
// functions of every op. Op implementation files include only the headers they need (unary.h
// declares ops::exp/log/sqrt, which would otherwise hide <cmath> inside namespace osprey::ops).
#pragma once

#include "framework/autograd/engine.h"
#include "framework/autograd/grad_mode.h"
#include "framework/core/tensor.h"
#include "framework/random/generator.h"
#include "ops/activation/activation.h"
#include "ops/batch_norm/batch_norm.h"
#include "ops/cat/cat.h"
#include "ops/conv2d/conv2d.h"
#include "ops/elementwise/binary_math.h"
#include "ops/elementwise/compare.h"
#include "ops/elementwise/elementwise.h"
#include "ops/elementwise/unary.h"
#include "ops/elementwise/where.h"
#include "ops/factory/factory.h"
#include "ops/index/index.h"
#include "ops/interpolate/interpolate.h"
#include "ops/matmul/matmul.h"
#include "ops/pool/pool.h"
#include "ops/random/random.h"
#include "ops/reduce/reduce.h"
#include "ops/softmax/softmax.h"
#include "ops/sort/sort.h"
