// OpenBLAS and OpenMP threads. lmac parallelises with OpenMP and calls single-threaded GEMMs inside its parallel
// loops. The OpenMP build of OpenBLAS (libopenblas0-openmp) runs those calls on the calling thread by itself and
// shares lmac's thread pool elsewhere. The pthreads build would start its own threads inside each OpenMP thread
// and oversubscribe the cores; SingleThreadedBlas prevents that for the scope it lives in.
#pragma once

namespace lmac {

// "openmp", "pthreads" or "sequential": the OpenBLAS that was loaded at run time.
const char* blas_threading_name();

class SingleThreadedBlas {
 public:
  SingleThreadedBlas();
  ~SingleThreadedBlas();
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int saved_threads_ = 0;  // 0: nothing to restore
};

}  // namespace lmac
