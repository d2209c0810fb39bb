# Cross-compiling for 64-bit Arm Linux with Debian's/Ubuntu's cross compiler (apt-get install g++-aarch64-linux-gnu).
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake -DTRTCORE_PYTHON=OFF
# TRTCORE_AARCH64_SYSROOT points at a target root file system (e.g. a copy of a board's /usr) when libraries
# beyond the C/C++ runtime are needed; the cpu backend needs none. TRTCORE_AARCH64_CPU_FLAGS picks the instruction
# set (the generic default runs on every ARMv8.2-A core: Jetson Xavier and Orin, Graviton 2+, Ampere Altra).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(TRTCORE_AARCH64_PREFIX "aarch64-linux-gnu-" CACHE STRING "Prefix of the cross compiler's executables")
set(TRTCORE_AARCH64_SYSROOT "" CACHE PATH "Target root file system (optional; empty: the cross compiler's own)")
set(TRTCORE_AARCH64_CPU_FLAGS "-march=armv8.2-a" CACHE STRING
  "Instruction-set flags for aarch64 (e.g. -mcpu=cortex-a78ae for Jetson Orin, -march=armv8.2-a+fp16 for Xavier)")
# try_compile projects re-read this file without the cache: hand them the choices made here.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TRTCORE_AARCH64_PREFIX TRTCORE_AARCH64_SYSROOT
  TRTCORE_AARCH64_CPU_FLAGS)

set(CMAKE_C_COMPILER "${TRTCORE_AARCH64_PREFIX}gcc")
set(CMAKE_CXX_COMPILER "${TRTCORE_AARCH64_PREFIX}g++")
set(CMAKE_CXX_FLAGS_INIT "${TRTCORE_AARCH64_CPU_FLAGS}")
set(CMAKE_C_FLAGS_INIT "${TRTCORE_AARCH64_CPU_FLAGS}")

if(TRTCORE_AARCH64_SYSROOT)
  set(CMAKE_SYSROOT "${TRTCORE_AARCH64_SYSROOT}")
  set(CMAKE_FIND_ROOT_PATH "${TRTCORE_AARCH64_SYSROOT}")
else()
  set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
endif()
# Programs (nvcc, python) come from the build machine; headers and libraries only from the target's paths.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Lets CMake run target programs (and a user run ctest-style checks) through user-mode emulation where installed.
find_program(TRTCORE_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(TRTCORE_QEMU_AARCH64)
  if(TRTCORE_AARCH64_SYSROOT)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${TRTCORE_QEMU_AARCH64};-L;${TRTCORE_AARCH64_SYSROOT}")
  else()
    set(CMAKE_CROSSCOMPILING_EMULATOR "${TRTCORE_QEMU_AARCH64};-L;/usr/aarch64-linux-gnu")
  endif()
endif()
