#include "engine/blas_threads.hpp"

#include <cblas.h>

namespace lmac {

const char* blas_threading_name() {
  switch (openblas_get_parallel()) {
    case 0: return "sequential";
    case 1: return "pthreads";
    default: return "openmp";
  }
}

// Only the pthreads build is touched: in the OpenMP build openblas_set_num_threads would call
// omp_set_num_threads and shrink lmac's own parallel loops.
SingleThreadedBlas::SingleThreadedBlas() {
  if (openblas_get_parallel() == 1) {
    saved_threads_ = openblas_get_num_threads();
    openblas_set_num_threads(1);
  }
}

SingleThreadedBlas::~SingleThreadedBlas() {
  if (saved_threads_ > 0) openblas_set_num_threads(saved_threads_);
}

}  // namespace lmac
