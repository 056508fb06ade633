"""Random-weight GGUF of a LLaMA shape, written with the May 2024 gguf-py (b228aba's own writer).

usage: mkgguf.py GGUF_PY_DIR SHAPE OUT [--no-vocab]
With a vocabulary (default): a dummy SentencePiece ("llama") token list of the shape's size (<unk>, <s>, </s>,
the 256 byte tokens <0x00>..<0xFF>, then plain tokens), so bos = 1. Without one (tokenizer "no_vocab"), b228aba
leaves bos = -1 and add_bos "unknown" (-1, truthy), and llama-bench's first token is -1: get_rows reads the row
before token_embd, which in a CUDA build is a pinned host buffer (segfault); a CPU build mmaps the file (no crash).
"""
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import gguf

name, path = sys.argv[2], sys.argv[3]
vocab = "--no-vocab" not in sys.argv[4:]
SHAPES = {  # hidden, intermediate, layers, heads, kv heads, vocab, rope theta
    "tiny": (256, 512, 2, 4, 2, 1000, 10000.0),
    "llama7b": (4096, 11008, 32, 32, 32, 32256, 10000.0),
    "llama3-8b": (4096, 14336, 32, 32, 8, 128256, 500000.0),
}
H, I, L, nh, nkv, V, theta = SHAPES[name]
hd = H // nh
pool = (np.random.default_rng(0).standard_normal(1 << 27, dtype=np.float32) * 0.02).astype(np.float16)


def rnd(*shape):
    n = int(np.prod(shape))
    reps = -(-n // pool.size)
    a = pool if reps == 1 else np.tile(pool, reps)
    return a[:n].reshape(shape)


w = gguf.GGUFWriter(path, "llama")
w.add_name(name)
w.add_context_length(8192)
w.add_embedding_length(H)
w.add_block_count(L)
w.add_feed_forward_length(I)
w.add_rope_dimension_count(hd)
w.add_head_count(nh)
w.add_head_count_kv(nkv)
w.add_layer_norm_rms_eps(1e-5)
w.add_rope_freq_base(theta)
w.add_file_type(1)
w.add_vocab_size(V)
if vocab:
    w.add_tokenizer_model("llama")
    toks = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    types = [2, 3, 3] + [6] * 256
    toks += [f"t{i}" for i in range(V - len(toks))]
    types += [1] * (V - len(types))
    w.add_token_list(toks)
    w.add_token_scores([0.0] * V)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
else:
    w.add_tokenizer_model("no_vocab")
ones = np.ones(H, dtype=np.float32)
w.add_tensor("token_embd.weight", rnd(V, H))
for i in range(L):
    p = f"blk.{i}."
    w.add_tensor(p + "attn_norm.weight", ones)
    w.add_tensor(p + "attn_q.weight", rnd(H, H))
    w.add_tensor(p + "attn_k.weight", rnd(nkv * hd, H))
    w.add_tensor(p + "attn_v.weight", rnd(nkv * hd, H))
    w.add_tensor(p + "attn_output.weight", rnd(H, H))
    w.add_tensor(p + "ffn_norm.weight", ones)
    w.add_tensor(p + "ffn_gate.weight", rnd(I, H))
    w.add_tensor(p + "ffn_up.weight", rnd(I, H))
    w.add_tensor(p + "ffn_down.weight", rnd(H, I))
w.add_tensor("output_norm.weight", ones)
w.add_tensor("output.weight", rnd(V, H))
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print("wrote", path)
