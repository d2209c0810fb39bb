# The cuda backend: on when nvcc, cuDNN and cuBLASLt are found (TRTCORE_CUDA=AUTO), required when ON.
# cuDNN/cuBLAS may come from NVIDIA's pip wheels (site-packages/nvidia/...) or a system install.
if(TRTCORE_CUDA STREQUAL "OFF")
  return()
endif()

include(CheckLanguage)
check_language(CUDA)
set(_trtcore_cuda_ok OFF)
if(CMAKE_CUDA_COMPILER)
  find_package(CUDAToolkit)
  # Candidate roots: explicit hints, then Python's nvidia wheel folders.
  set(_hints ${CUDNN_ROOT} $ENV{CUDNN_ROOT} ${CUBLAS_ROOT} $ENV{CUBLAS_ROOT})
  find_package(Python COMPONENTS Interpreter QUIET)
  if(Python_EXECUTABLE)
    execute_process(
      COMMAND ${Python_EXECUTABLE} -c "import site,sys,os; print(';'.join(p+'/nvidia' for p in site.getsitepackages()+[site.getusersitepackages()] if os.path.isdir(p+'/nvidia')))"
      OUTPUT_VARIABLE _py_nvidia OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    foreach(_d ${_py_nvidia})
      list(APPEND _hints ${_d}/cudnn ${_d}/cu13 ${_d}/cublas)
    endforeach()
  endif()
  list(APPEND _hints ${CUDAToolkit_LIBRARY_ROOT} /usr/local/cuda /usr)
  find_path(CUDNN_INCLUDE_DIR cudnn.h HINTS ${_hints} PATH_SUFFIXES include include/x86_64-linux-gnu)
  find_library(CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 HINTS ${_hints} PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu)
  find_path(CUBLASLT_INCLUDE_DIR cublasLt.h HINTS ${CUDAToolkit_INCLUDE_DIRS} ${_hints} PATH_SUFFIXES include)
  find_library(CUBLASLT_LIBRARY NAMES cublasLt libcublasLt.so.13 libcublasLt.so.12 HINTS ${CUDAToolkit_LIBRARY_DIR} ${_hints} PATH_SUFFIXES lib lib64)
  find_library(CUBLAS_LIBRARY NAMES cublas libcublas.so.13 libcublas.so.12 HINTS ${CUDAToolkit_LIBRARY_DIR} ${_hints} PATH_SUFFIXES lib lib64)
  if(CUDNN_INCLUDE_DIR AND CUDNN_LIBRARY AND CUBLASLT_INCLUDE_DIR AND CUBLASLT_LIBRARY AND CUBLAS_LIBRARY)
    set(_trtcore_cuda_ok ON)
  endif()
endif()

if(NOT _trtcore_cuda_ok)
  if(TRTCORE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "TRTCORE_CUDA=ON but nvcc/cuDNN/cuBLASLt were not all found "
      "(nvcc=${CMAKE_CUDA_COMPILER} cudnn=${CUDNN_LIBRARY} cublasLt=${CUBLASLT_LIBRARY}); set CUDNN_ROOT/CUBLAS_ROOT")
  endif()
  message(STATUS "trtcore: cuda backend off (nvcc, cuDNN or cuBLASLt not found)")
  return()
endif()

enable_language(CUDA)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
file(GLOB TRTCORE_CUDA_SOURCES CONFIGURE_DEPENDS cpp/backends/cuda/*.cu cpp/backends/cuda/*.cpp)
# A shared library opened at run time (cpp/backends/cuda_loader.cpp) only when the cuda backend is used, so a cpu run
# never maps cuDNN/cuBLASLt. It carries its own private copy of the core; only trtcore_cuda_plugin() is exported.
add_library(trtcore_cuda SHARED ${TRTCORE_CUDA_SOURCES})
set_target_properties(trtcore_cuda PROPERTIES CUDA_ARCHITECTURES "${TRTCORE_CUDA_ARCHITECTURES}"
  CUDA_SEPARABLE_COMPILATION OFF POSITION_INDEPENDENT_CODE ON
  CXX_VISIBILITY_PRESET hidden CUDA_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
target_include_directories(trtcore_cuda PRIVATE cpp ${CUDNN_INCLUDE_DIR} ${CUBLASLT_INCLUDE_DIR})
target_link_libraries(trtcore_cuda PRIVATE trtcore_core CUDA::cudart_static ${CUDNN_LIBRARY} ${CUBLASLT_LIBRARY} ${CUBLAS_LIBRARY})
target_link_options(trtcore_cuda PRIVATE "LINKER:--exclude-libs,ALL" "LINKER:--no-undefined"
  "LINKER:--version-script=${CMAKE_CURRENT_SOURCE_DIR}/cmake/cuda_plugin.map")
set_property(TARGET trtcore_cuda APPEND PROPERTY LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/cmake/cuda_plugin.map)
target_compile_options(trtcore_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -lineinfo>)
list(APPEND TRTCORE_BACKEND_DEFS TRTCORE_WITH_CUDA=1)
set(TRTCORE_BACKEND_SUMMARY "${TRTCORE_BACKEND_SUMMARY}, cuda (libtrtcore_cuda.so, loaded on use; cuDNN ${CUDNN_LIBRARY})")
include(cmake/cutlass.cmake)
# cuDNN/cuBLAS: NVIDIA's wheels beside the installed package (site-packages/nvidia/...), then the folders found here.
get_filename_component(_cudnn_dir ${CUDNN_LIBRARY} DIRECTORY)
get_filename_component(_cublas_dir ${CUBLASLT_LIBRARY} DIRECTORY)
set(_cuda_rpath "$ORIGIN/../../nvidia/cudnn/lib;$ORIGIN/../../nvidia/cu13/lib;$ORIGIN/../../nvidia/cublas/lib;${_cudnn_dir};${_cublas_dir}")
set_target_properties(trtcore_cuda PROPERTIES INSTALL_RPATH "${_cuda_rpath}" BUILD_RPATH "${_cuda_rpath}")
# In the package's lib/ folder (trtcore/lib: found by the module in trtcore/ and the executable in trtcore/bin; not
# beside _core, where Python would list it as a module); a plain install also puts it in lib/ for bin/trtcore-exec.
if(SKBUILD)
  install(TARGETS trtcore_cuda LIBRARY DESTINATION trtcore/lib)
else()
  install(TARGETS trtcore_cuda LIBRARY DESTINATION lib)
  if(TRTCORE_PYTHON)
    install(TARGETS trtcore_cuda LIBRARY DESTINATION trtcore/lib)
  endif()
endif()
