// Times llama.cpp's own matmul kernels (ggml MUL_MAT / MUL_MAT_ID on the first GPU backend) at the weight
// shapes of DeepSeek models and N = 1..128 token columns, the way a decode step meets them: each timed graph
// holds R distinct copies of the weight (R x weight bytes >= 256 MiB, so the 50 MB L2 cache cannot serve a
// repeat; one layer's copy each, as a model's layers are), each multiplied by the same activations, run through
// ggml_backend_graph_compute as llama.cpp does (CUDA graphs included). Also times the device-to-host copy of
// N x vocabulary float32 logits into pinned (the backend's host buffer type, as llama.cpp's output buffer) and
// pageable memory.
//
//   mmbench CASES_FILE N,N,... [min_seconds [reps]]   one JSON object per case and N on stdout
// reps (run 6): at least this many copies of the weight in each graph (-R: exactly R); a graph run costs a fixed
// launch-and-synchronize time besides its kernels, which a graph of R copies spreads over R matmuls.
// CASES_FILE lines: `label type m k experts used bcast` (experts 0: dense MUL_MAT of a k x m weight;
// else MUL_MAT_ID over `experts` k x m experts, `used` per token, bcast 1 when every expert gets the same
// activation row as llama.cpp's gate/up projections do) or `label copy vocab`.
#include "ggml.h"
#include "ggml-alloc.h"
#include "ggml-backend.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64() {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

// Random bytes shaped as small f16 values: quant blocks get finite scales, F16 weights values of +-0.06..0.12.
static void fill_weights(ggml_tensor * t, std::vector<uint16_t> & buf) {
    const size_t nb = ggml_nbytes(t);
    if (buf.size() * 2 < nb) {
        buf.resize(nb / 2 + 1);
        for (auto & v : buf) {
            const uint64_t x = next_u64();
            v = (uint16_t) ((x & 0x03FF) | 0x2C00 | ((x >> 20) & 0x8000));
        }
    }
    ggml_backend_tensor_set(t, buf.data(), 0, nb);
}

static void fill_f32(ggml_tensor * t) {
    std::vector<float> v(ggml_nelements(t));
    for (auto & f : v) f = (float) ((next_u64() >> 40) / (double) (1 << 24) * 2.0 - 1.0);
    ggml_backend_tensor_set(t, v.data(), 0, ggml_nbytes(t));
}

static void fill_ids(ggml_tensor * t, int experts, int used, int n) {
    std::vector<int32_t> ids((size_t) used * n);
    std::vector<int32_t> perm(experts);
    for (int j = 0; j < n; j++) {
        for (int e = 0; e < experts; e++) perm[e] = e;
        for (int u = 0; u < used; u++) {  // partial Fisher-Yates: `used` distinct experts, uniform
            const int r = u + (int) (next_u64() % (uint64_t) (experts - u));
            std::swap(perm[u], perm[r]);
            ids[(size_t) j * used + u] = perm[u];
        }
    }
    ggml_backend_tensor_set(t, ids.data(), 0, ids.size() * sizeof(int32_t));
}

static ggml_type type_named(const std::string & name) {
    for (int i = 0; i < GGML_TYPE_COUNT; i++) {
        const char * tn = ggml_type_name((ggml_type) i);
        if (tn && name == tn) return (ggml_type) i;
    }
    fprintf(stderr, "unknown type %s\n", name.c_str());
    exit(2);
}

struct Case {
    std::string label, type;
    int64_t m = 0, k = 0;
    int experts = 0, used = 0, bcast = 0;
};

// Runs the graph until `min_s` seconds have passed (after two warm-up runs that let the backend capture it).
static void time_graph(ggml_backend_t be, ggml_cgraph * gf, double min_s, double & per_run, int & runs) {
    ggml_backend_graph_compute(be, gf);
    ggml_backend_graph_compute(be, gf);
    runs = 0;
    const double t0 = now_s();
    double t = t0;
    while (runs < 3 || t - t0 < min_s) {
        ggml_backend_graph_compute(be, gf);
        runs++;
        t = now_s();
    }
    per_run = (t - t0) / runs;
}

static void run_case(ggml_backend_t be, const Case & c, const std::vector<int> & ns, double min_s, int forced_reps) {
    const ggml_type type = type_named(c.type);
    const bool moe = c.experts > 0;
    const int64_t n_w = moe ? (int64_t) c.experts : 1;
    const size_t w_bytes = ggml_row_size(type, c.k) * c.m * n_w;
    const int auto_reps = (int) std::max<int64_t>(1, std::min<int64_t>(64, ((int64_t) 256 << 20) / (int64_t) w_bytes + 1));
    const int reps = forced_reps < 0 ? -forced_reps : std::max(auto_reps, forced_reps);

    ggml_init_params wp = { ggml_tensor_overhead() * (reps + 4), nullptr, true };
    ggml_context * wctx = ggml_init(wp);
    std::vector<ggml_tensor *> w(reps);
    for (int r = 0; r < reps; r++) {
        w[r] = moe ? ggml_new_tensor_3d(wctx, type, c.k, c.m, c.experts) : ggml_new_tensor_2d(wctx, type, c.k, c.m);
    }
    ggml_backend_buffer_t wbuf = ggml_backend_alloc_ctx_tensors(wctx, be);
    if (!wbuf) { fprintf(stderr, "%s: no memory for weights\n", c.label.c_str()); ggml_free(wctx); return; }
    std::vector<uint16_t> buf;
    for (int r = 0; r < reps; r++) fill_weights(w[r], buf);

    for (int n : ns) {
        ggml_init_params p = { ggml_tensor_overhead() * (3 * reps + 8) + ggml_graph_overhead_custom(4 * reps + 8, false),
                               nullptr, true };
        ggml_context * ctx = ggml_init(p);
        ggml_tensor * b = moe ? ggml_new_tensor_3d(ctx, GGML_TYPE_F32, c.k, c.bcast ? 1 : c.used, n)
                              : ggml_new_tensor_2d(ctx, GGML_TYPE_F32, c.k, n);
        std::vector<ggml_tensor *> ids(reps, nullptr);
        ggml_cgraph * gf = ggml_new_graph_custom(ctx, 4 * reps + 8, false);
        std::vector<ggml_tensor *> outs;
        for (int r = 0; r < reps; r++) {
            ggml_tensor * out;
            if (moe) {
                ids[r] = ggml_new_tensor_2d(ctx, GGML_TYPE_I32, c.used, n);
                out = ggml_mul_mat_id(ctx, w[r], b, ids[r]);
            } else {
                out = ggml_mul_mat(ctx, w[r], b);
            }
            ggml_build_forward_expand(gf, out);
        }
        ggml_backend_buffer_t abuf = ggml_backend_alloc_ctx_tensors(ctx, be);
        if (!abuf) { fprintf(stderr, "%s n=%d: no memory\n", c.label.c_str(), n); ggml_free(ctx); continue; }
        fill_f32(b);
        for (int r = 0; r < reps; r++) if (moe) fill_ids(ids[r], c.experts, c.used, n);
        double per_run = 0; int runs = 0;
        time_graph(be, gf, min_s, per_run, runs);
        printf("{\"label\": \"%s\", \"type\": \"%s\", \"m\": %lld, \"k\": %lld, \"experts\": %d, \"used\": %d, "
               "\"bcast\": %d, \"n\": %d, \"us\": %.3f, \"reps\": %d, \"runs\": %d, \"weight_bytes\": %zu}\n",
               c.label.c_str(), c.type.c_str(), (long long) c.m, (long long) c.k, c.experts, c.used, c.bcast, n,
               per_run / reps * 1e6, reps, runs, w_bytes);
        fflush(stdout);
        ggml_backend_buffer_free(abuf);
        ggml_free(ctx);
    }
    ggml_backend_buffer_free(wbuf);
    ggml_free(wctx);
}

// Device-to-host copy of n x vocab float32 logits, into pinned (the device's host buffer type) and pageable memory.
static void run_copy(ggml_backend_t be, ggml_backend_dev_t dev, const std::string & label, int64_t vocab,
                     const std::vector<int> & ns) {
    const int nmax = *std::max_element(ns.begin(), ns.end());
    ggml_init_params p = { ggml_tensor_overhead() * 4, nullptr, true };
    ggml_context * ctx = ggml_init(p);
    ggml_tensor * t = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, vocab, nmax);
    ggml_backend_buffer_t dbuf = ggml_backend_alloc_ctx_tensors(ctx, be);
    fill_f32(t);
    ggml_backend_buffer_type_t host_bt = ggml_backend_dev_host_buffer_type(dev);
    ggml_backend_buffer_t hbuf = host_bt ? ggml_backend_buft_alloc_buffer(host_bt, ggml_nbytes(t)) : nullptr;
    std::vector<char> pageable(ggml_nbytes(t));
    for (int pinned = 0; pinned <= 1; pinned++) {
        void * dst = pinned ? (hbuf ? ggml_backend_buffer_get_base(hbuf) : nullptr) : (void *) pageable.data();
        if (!dst) continue;
        for (int n : ns) {
            const size_t bytes = (size_t) vocab * n * sizeof(float);
            ggml_backend_tensor_get(t, dst, 0, bytes);
            int runs = 0;
            const double t0 = now_s();
            while (runs < 5 || now_s() - t0 < 0.05) { ggml_backend_tensor_get(t, dst, 0, bytes); runs++; }
            const double per = (now_s() - t0) / runs;
            printf("{\"label\": \"%s\", \"type\": \"copy\", \"vocab\": %lld, \"pinned\": %d, \"n\": %d, \"us\": %.3f, "
                   "\"bytes\": %zu, \"runs\": %d}\n", label.c_str(), (long long) vocab, pinned, n, per * 1e6, bytes, runs);
            fflush(stdout);
        }
    }
    if (hbuf) ggml_backend_buffer_free(hbuf);
    ggml_backend_buffer_free(dbuf);
    ggml_free(ctx);
}

int main(int argc, char ** argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s CASES_FILE N,N,... [min_seconds]\n", argv[0]); return 2; }
    std::vector<int> ns;
    { std::stringstream ss(argv[2]); std::string tok; while (std::getline(ss, tok, ',')) ns.push_back(atoi(tok.c_str())); }
    const double min_s = argc > 3 ? atof(argv[3]) : 0.06;
    const int forced_reps = argc > 4 ? atoi(argv[4]) : 0;
    ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_GPU);
    if (!dev) dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    ggml_backend_t be = ggml_backend_dev_init(dev, nullptr);
    fprintf(stderr, "backend %s (%s)\n", ggml_backend_name(be), ggml_backend_dev_description(dev));
    std::ifstream in(argv[1]);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::stringstream ss(line);
        Case c;
        ss >> c.label >> c.type;
        const double t0 = now_s();
        if (c.type == "copy") {
            int64_t vocab = 0; ss >> vocab;
            run_copy(be, dev, c.label, vocab, ns);
        } else {
            ss >> c.m >> c.k >> c.experts >> c.used >> c.bcast;
            run_case(be, c, ns, min_s, forced_reps);
        }
        fprintf(stderr, "%s %s: %.1f s\n", c.label.c_str(), c.type.c_str(), now_s() - t0);
    }
    ggml_backend_free(be);
    return 0;
}
