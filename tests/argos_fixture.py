"""Tiny random-weight Argos Translate packages, built in a second with nothing downloaded.

They translate into garbage: they exist to prove the plumbing (install, list, translate in batches, pivot,
remove) on real CTranslate2 and SentencePiece files laid out exactly as argostranslate lays them out:

    translate-nb_en-1_0/            one top folder, as in every .argosmodel
        metadata.json               from_code, to_code, package_version, argos_version, … [target_prefix]
        sentencepiece.model
        model/                      a CTranslate2 Transformer: model.bin, config.json, shared_vocabulary.json

Other test modules may use them too: ``build_package_folder`` once, ``zip_package`` per variant.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

CORPUS = [
    "Seksten personer ble drept i to barer.",
    "Blant dem var en fireåring.",
    "Regjeringen la fram nye klimatiltak tirsdag.",
    "Broren min jobber som lege på et lite sykehus.",
    "Dieciséis personas fueron asesinadas en dos bares.",
    "El gobierno anunció nuevas políticas climáticas el martes.",
    "Mi hermano trabaja como médico en un pequeño hospital.",
    "Sixteen people were killed in two bars.",
    "The government announced new climate policies on Tuesday.",
    "My brother works as a doctor in a small hospital.",
]

NAMES = {"nb": "Norwegian Bokmål", "en": "English", "es": "Spanish"}


def train_sentencepiece(user_symbols: tuple[str, ...] = ()) -> bytes:
    """A unigram SentencePiece model of a few dozen pieces (unk 0, bos 1, eos 2: the tokens CTranslate2's
    default config names <unk>, <s>, </s>)."""
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS * 5), model_writer=model, vocab_size=120, hard_vocab_limit=False,
        model_type="unigram", character_coverage=1.0, user_defined_symbols=list(user_symbols),
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2)
    return model.getvalue()


def random_transformer(vocabulary: list[str], out: Path, *, seed: int, d_model: int = 16, heads: int = 2,
                       ffn: int = 32) -> None:
    """A one-layer CTranslate2 Transformer with random weights and ``vocabulary`` on both sides."""
    from ctranslate2.specs import TransformerSpec

    rng = np.random.default_rng(seed)
    spec = TransformerSpec.from_config(1, heads)
    d, v = d_model, len(vocabulary)

    def linear(layer, rows: int, cols: int) -> None:
        layer.weight = rng.normal(0, 0.3, (rows, cols)).astype(np.float32)
        layer.bias = np.zeros(rows, dtype=np.float32)

    def norm(layer) -> None:
        layer.gamma = np.ones(d, dtype=np.float32)
        layer.beta = np.zeros(d, dtype=np.float32)

    spec.encoder.embeddings[0].weight = rng.normal(0, 1, (v, d)).astype(np.float32)
    spec.decoder.embeddings.weight = rng.normal(0, 1, (v, d)).astype(np.float32)
    for side in (spec.encoder, spec.decoder):
        norm(side.layer_norm)
        for layer in side.layer:
            norm(layer.self_attention.layer_norm)
            linear(layer.self_attention.linear[0], 3 * d, d)  # fused query, key, value
            linear(layer.self_attention.linear[1], d, d)
            norm(layer.ffn.layer_norm)
            linear(layer.ffn.linear_0, ffn, d)
            linear(layer.ffn.linear_1, d, ffn)
            if side is spec.decoder:
                norm(layer.attention.layer_norm)
                linear(layer.attention.linear[0], d, d)  # query
                linear(layer.attention.linear[1], 2 * d, d)  # fused key, value
                linear(layer.attention.linear[2], d, d)
    linear(spec.decoder.projection, v, d)
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.validate()
    spec.save(str(out))


def build_package_folder(out: Path, from_code: str, to_code: str, *, version: str = "1.0", seed: int = 0,
                         target_prefix: str | None = None) -> Path:
    """The unzipped package ``out/translate-{from}_{to}-{version}`` (what an .argosmodel holds)."""
    import sentencepiece as spm

    folder = out / f"translate-{from_code}_{to_code}-{version.replace('.', '_')}"
    (folder / "model").mkdir(parents=True)
    sp_model = train_sentencepiece((target_prefix,) if target_prefix else ())
    (folder / "sentencepiece.model").write_bytes(sp_model)
    sp = spm.SentencePieceProcessor(model_proto=sp_model)
    random_transformer([sp.id_to_piece(i) for i in range(sp.get_piece_size())], folder / "model", seed=seed)
    metadata = {"package_version": version, "argos_version": "1.0", "from_code": from_code,
                "from_name": NAMES.get(from_code, from_code), "to_code": to_code,
                "to_name": NAMES.get(to_code, to_code), "type": "translate", "links": []}
    if target_prefix:
        metadata["target_prefix"] = target_prefix
    (folder / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    (folder / "README.md").write_text("A random-weight package for tests; it translates into garbage.\n")
    return folder


def zip_package(folder: Path, dest: Path, *, drop: tuple[str, ...] = (),
                replace: dict[str, bytes] | None = None, extra: dict[str, bytes] | None = None) -> Path:
    """Zip ``folder`` under its own name as argos packages are zipped; ``drop`` leaves out members (paths
    inside the folder), ``replace`` swaps their bytes, ``extra`` adds raw archive names (for traversal)."""
    replace = replace or {}
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            inner = path.relative_to(folder).as_posix()
            if path.is_file() and inner not in drop:
                archive.writestr(f"{folder.name}/{inner}", replace.get(inner, path.read_bytes()))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return dest
