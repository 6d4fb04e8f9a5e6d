// mic_faiss: a small extern "C" shim over Faiss's C++ API (Debian's libfaiss-dev 1.7.3 ships only
// a static libfaiss.a and no C API objects). Every function returns 0 on success and -1 on error;
// mic_faiss_last_error() then gives Faiss's own message (thread-local). OpenMP team size is applied
// on every call that computes, because omp_set_num_threads only affects the calling thread and .NET
// calls arrive on pool threads.
#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <omp.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>

#define MIC_API extern "C" __attribute__((visibility("default")))

namespace {
thread_local std::string last_error;
std::atomic<int64_t> live_indexes{0};

template <typename F>
int guarded(F&& body) {
    try {
        body();
        return 0;
    } catch (const faiss::FaissException& e) {
        last_error = e.msg.empty() ? e.what() : e.msg;
    } catch (const std::exception& e) {
        last_error = e.what();
    } catch (...) {
        last_error = "unknown native error";
    }
    return -1;
}

void set_threads(int threads) {
    if (threads > 0) omp_set_num_threads(threads);
}

faiss::Index* as_index(void* p) {
    if (p == nullptr) throw std::invalid_argument("null index handle");
    return static_cast<faiss::Index*>(p);
}
}  // namespace

MIC_API const char* mic_faiss_last_error() { return last_error.c_str(); }

MIC_API int64_t mic_faiss_live_indexes() { return live_indexes.load(); }

// metric: 0 = inner product, 1 = L2. Indexes that cannot take ids themselves are wrapped in IDMap.
MIC_API int mic_faiss_index_factory(int dim, const char* description, int metric, void** out) {
    return guarded([&] {
        *out = nullptr;
        faiss::MetricType m = metric == 0 ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2;
        std::string desc(description);
        bool has_ids = desc.rfind("IDMap", 0) == 0 || desc.rfind("IVF", 0) == 0;
        faiss::Index* index = faiss::index_factory(dim, (has_ids ? desc : "IDMap," + desc).c_str(), m);
        *out = index;
        live_indexes++;
    });
}

MIC_API int mic_faiss_train(void* idx, int64_t n, const float* x, int threads) {
    return guarded([&] {
        set_threads(threads);
        as_index(idx)->train(n, x);
    });
}

MIC_API int mic_faiss_add_with_ids(void* idx, int64_t n, const float* x, const int64_t* ids, int threads) {
    return guarded([&] {
        set_threads(threads);
        as_index(idx)->add_with_ids(n, x, ids);
    });
}

MIC_API int mic_faiss_search(void* idx, int64_t n, const float* x, int64_t k, float* distances, int64_t* labels, int threads) {
    return guarded([&] {
        set_threads(threads);
        as_index(idx)->search(n, x, k, distances, labels);
    });
}

MIC_API int mic_faiss_remove_ids(void* idx, int64_t n, const int64_t* ids, int64_t* removed) {
    return guarded([&] {
        faiss::IDSelectorBatch selector(n, ids);
        *removed = static_cast<int64_t>(as_index(idx)->remove_ids(selector));
    });
}

// Search-time parameters by name ("nprobe", "efSearch", ...), through Faiss's ParameterSpace (it
// reaches through IDMap wrappers). Not thread-safe with searches: set them before publishing.
MIC_API int mic_faiss_set_param(void* idx, const char* name, double value) {
    return guarded([&] {
        faiss::ParameterSpace ps;
        ps.set_index_parameter(as_index(idx), name, value);
    });
}

MIC_API int mic_faiss_write(void* idx, const char* path) {
    return guarded([&] { faiss::write_index(as_index(idx), path); });
}

MIC_API int mic_faiss_read(const char* path, void** out) {
    return guarded([&] {
        *out = nullptr;
        *out = faiss::read_index(path);
        live_indexes++;
    });
}

MIC_API int mic_faiss_info(void* idx, int64_t* ntotal, int* dim, int* is_trained) {
    return guarded([&] {
        faiss::Index* index = as_index(idx);
        *ntotal = index->ntotal;
        *dim = static_cast<int>(index->d);
        *is_trained = index->is_trained ? 1 : 0;
    });
}

MIC_API void mic_faiss_free(void* idx) {
    if (idx != nullptr) {
        delete static_cast<faiss::Index*>(idx);
        live_indexes--;
    }
}
