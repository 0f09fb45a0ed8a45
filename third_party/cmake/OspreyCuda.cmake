# Decides whether the CUDA backend is built (OSPREY_CUDA = ON | OFF | AUTO) and sets it up:
# sm_90 SASS plus compute_90 PTX, C++20 for nvcc passed as a flag (CMake 3.25 cannot set it through
# CMAKE_CUDA_STANDARD), cuDNN through FindCUDNN. Nothing links the driver library.
set(OSPREY_WITH_CUDA OFF)
if(NOT OSPREY_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
  find_package(CUDNN QUIET)
  if(CMAKE_CUDA_COMPILER AND CUDNN_FOUND)
    set(OSPREY_WITH_CUDA ON)
  elseif(OSPREY_CUDA STREQUAL "ON")
    message(FATAL_ERROR "OSPREY_CUDA=ON but nvcc (${CMAKE_CUDA_COMPILER}) or cuDNN (${CUDNN_INCLUDE_DIR}) was not found")
  endif()
endif()

if(OSPREY_WITH_CUDA)
  if(NOT CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90)  # sm_90 SASS + compute_90 PTX
  endif()
  enable_language(CUDA)
  # CUDA_STANDARD falls back to CXX_STANDARD (20), which CMake 3.25 has no nvcc flag for; newer
  # CMake knows it already.
  if(NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  endif()
  find_package(CUDAToolkit REQUIRED)
  find_package(CUDNN REQUIRED)
  find_package(NCCL QUIET)
  # One shared cudart for the whole process: the static default would give .cu objects their own
  # runtime next to the shared one that cuBLAS/cuDNN use.
  set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
  # fmt turns its constexpr support off under nvcc but keeps consteval format strings, which nvcc
  # then rejects; forcing constexpr on keeps .cu files consistent with the host compiler's view.
  set(CMAKE_CUDA_FLAGS "${CMAKE_CUDA_FLAGS} -std=c++20 --expt-relaxed-constexpr -Xcompiler=-fopenmp -DFMT_USE_CONSTEXPR=1")
  message(STATUS "Osprey: CUDA backend ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, cuDNN ${CUDNN_INCLUDE_DIR})")
else()
  message(STATUS "Osprey: CUDA backend OFF")
endif()
