# CUTLASS's Hopper int8 GEMMs and implicit-GEMM convolutions for the cuda backend's QConv "i8-cutlass" and
# "i8-cutlass-conv" tactics (header-only; the headers come from the nvidia-cutlass pip wheel,
# cutlass_library/source/include and tools/util/include, or CUTLASS_ROOT). AUTO builds them where the headers are
# found; the translation units are compiled for sm_90a only (wgmma and TMA are that architecture's own).
set(TRTCORE_CUTLASS AUTO CACHE STRING "Build the CUTLASS SM90 int8 GEMM and convolution tactics: AUTO (where its headers are found), ON or OFF")
set(CUTLASS_ROOT "" CACHE PATH "A CUTLASS source tree or the nvidia-cutlass wheel's cutlass_library/source folder")
if(TRTCORE_CUTLASS STREQUAL "OFF")
  return()
endif()

set(_cutlass_hints ${CUTLASS_ROOT} $ENV{CUTLASS_ROOT})
if(Python_EXECUTABLE)
  # find_spec locates the package without importing it (its __init__ needs packages a header user does not)
  execute_process(
    COMMAND ${Python_EXECUTABLE} -c "import importlib.util as u; s = u.find_spec('cutlass_library'); print(s.submodule_search_locations[0] + '/source' if s else '')"
    OUTPUT_VARIABLE _cutlass_py OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(_cutlass_py)
    list(APPEND _cutlass_hints ${_cutlass_py})
  endif()
endif()
find_path(CUTLASS_INCLUDE_DIR cutlass/gemm/collective/collective_builder.hpp HINTS ${_cutlass_hints}
  PATH_SUFFIXES include NO_DEFAULT_PATH)
# the implicit-GEMM convolutions include one header of CUTLASS's utilities (tools/util/include)
find_path(CUTLASS_UTIL_INCLUDE_DIR cutlass/util/packed_stride.hpp HINTS ${_cutlass_hints}
  PATH_SUFFIXES tools/util/include NO_DEFAULT_PATH)

set(_cutlass_why "")
if(NOT CUTLASS_INCLUDE_DIR)
  set(_cutlass_why "headers not found (pip install nvidia-cutlass, or set CUTLASS_ROOT)")
elseif(NOT CUTLASS_UTIL_INCLUDE_DIR)
  set(_cutlass_why "tools/util/include not found beside ${CUTLASS_INCLUDE_DIR}")
elseif(CMAKE_CUDA_COMPILER_VERSION VERSION_LESS 12.0)
  set(_cutlass_why "nvcc ${CMAKE_CUDA_COMPILER_VERSION} cannot compile for sm_90a")
endif()
if(_cutlass_why)
  if(TRTCORE_CUTLASS STREQUAL "ON")
    message(FATAL_ERROR "TRTCORE_CUTLASS=ON but ${_cutlass_why}")
  endif()
  message(STATUS "trtcore: CUTLASS int8 tactic off: ${_cutlass_why}")
  return()
endif()

# An object library of its own: its architecture flags differ from the rest of the cuda backend's.
file(GLOB TRTCORE_CUTLASS_SOURCES CONFIGURE_DEPENDS cpp/backends/cuda/cutlass/*.cu)
add_library(trtcore_cutlass OBJECT ${TRTCORE_CUTLASS_SOURCES})
set_target_properties(trtcore_cutlass PROPERTIES CUDA_ARCHITECTURES OFF POSITION_INDEPENDENT_CODE ON
  CXX_VISIBILITY_PRESET hidden CUDA_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
target_include_directories(trtcore_cutlass PRIVATE cpp)
target_include_directories(trtcore_cutlass SYSTEM PRIVATE ${CUTLASS_INCLUDE_DIR} ${CUTLASS_UTIL_INCLUDE_DIR})
target_compile_options(trtcore_cutlass PRIVATE
  "SHELL:--generate-code=arch=compute_90a,code=sm_90a" --expt-relaxed-constexpr -lineinfo)
target_compile_definitions(trtcore_cutlass PRIVATE TRTCORE_WITH_CUTLASS=1)
target_sources(trtcore_cuda PRIVATE $<TARGET_OBJECTS:trtcore_cutlass>)
target_compile_definitions(trtcore_cuda PRIVATE TRTCORE_WITH_CUTLASS=1)
set(TRTCORE_BACKEND_SUMMARY "${TRTCORE_BACKEND_SUMMARY}; CUTLASS int8 GEMMs and convolutions (sm_90a, ${CUTLASS_INCLUDE_DIR})")
