# Cross-compiling trtcore for NVIDIA Jetson (JetPack 6: Ubuntu 22.04 aarch64, CUDA 12.6, cuDNN 9, TensorRT 10.3).
#   cpu backend only (no NVIDIA files needed):
#     cmake -S . -B build/jetson -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/jetson-aarch64.cmake \
#           -DTRTCORE_PYTHON=OFF -DTRTCORE_CUDA=OFF -DTRTCORE_TENSORRT=OFF
#   with the cuda/tensorrt backends: add -DTRTCORE_AARCH64_SYSROOT=<copy of the board's root file system> and
#     -DCMAKE_CUDA_COMPILER=<an x86 nvcc 12.x with NVIDIA's aarch64 cross target> (untested; README, Jetson).
# JETSON_MODULE is read at the first configure (the compiler flags are cached then): use a fresh build folder.
# On the board itself no toolchain file is needed: build natively (README, Jetson).
set(JETSON_MODULE "generic" CACHE STRING "Which Jetson to tune for: generic (any ARMv8.2-A), orin or xavier")
set_property(CACHE JETSON_MODULE PROPERTY STRINGS generic orin xavier)
if(JETSON_MODULE STREQUAL "orin")
  set(_jetson_cpu_flags "-mcpu=cortex-a78ae")
elseif(JETSON_MODULE STREQUAL "xavier")
  set(_jetson_cpu_flags "-march=armv8.2-a+fp16")  # Carmel; GCC has no -mcpu=carmel (clang does)
elseif(JETSON_MODULE STREQUAL "generic")
  set(_jetson_cpu_flags "-march=armv8.2-a")
else()
  message(FATAL_ERROR "JETSON_MODULE='${JETSON_MODULE}': expected generic, orin or xavier")
endif()
set(TRTCORE_AARCH64_CPU_FLAGS "${_jetson_cpu_flags}" CACHE STRING "Instruction-set flags for aarch64")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES JETSON_MODULE)

include("${CMAKE_CURRENT_LIST_DIR}/aarch64-linux-gnu.cmake")

# Orin is sm_87 (JetPack 6); Xavier is sm_72, which JetPack 5's CUDA 11.4/12.2 compile and CUDA 13 no longer does.
if(JETSON_MODULE STREQUAL "xavier")
  set(TRTCORE_CUDA_ARCHITECTURES "72" CACHE STRING "GPU architectures for the cuda backend")
else()
  set(TRTCORE_CUDA_ARCHITECTURES "87" CACHE STRING "GPU architectures for the cuda backend")
endif()
# nvcc compiles host code with the cross compiler, against the aarch64 target of the CUDA toolkit.
set(CMAKE_CUDA_HOST_COMPILER "${TRTCORE_AARCH64_PREFIX}g++" CACHE FILEPATH "Host compiler for nvcc")
if(TRTCORE_AARCH64_SYSROOT)
  # JetPack's CUDA lives in the root file system under /usr/local/cuda; cuDNN and TensorRT under /usr.
  set(CUDAToolkit_ROOT "${TRTCORE_AARCH64_SYSROOT}/usr/local/cuda" CACHE PATH "CUDA toolkit of the target")
  set(TENSORRT_ROOT "${TRTCORE_AARCH64_SYSROOT}/usr" CACHE PATH "TensorRT of the target")
  set(CUDNN_ROOT "${TRTCORE_AARCH64_SYSROOT}/usr" CACHE PATH "cuDNN of the target")
endif()
