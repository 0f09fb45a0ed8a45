// Umbrella header of the module system: Module, the layers and the initialisers.
#pragma once

#include "framework/nn/init.h"
#include "framework/nn/layers/batch_norm.h"
#include "framework/nn/layers/conv2d.h"
#include "framework/nn/layers/deform_conv2d.h"
#include "framework/nn/layers/linear.h"
#include "framework/nn/layers/sequential.h"
#include "framework/nn/layers/stateless.h"
#include "framework/nn/module.h"
#include "framework/nn/name_pattern.h"
