"""Which offline engine translates a pair: the one place that knows the engines and their order.

Order, when no engine is named:

1. **argos**, whatever ``translate.argos.find_translator`` finds: a package the user installed for the pair
   (neural, far better than rule-based), or a pivot through English for a pair without one.
2. **apertium** for es↔en (``apertium-eng-spa``, rule-based, mediocre, but on any Debian machine).

For es↔en, the only pairs Apertium covers, English is one side, so argos cannot pivot there: what argos
finds for them is a package the user installed, which is better than Apertium.

argos lives in ``translate.argos``, imported only here and only when asked: an ImportError (argostranslate
missing) means "argos is not available".
"""
from __future__ import annotations

from polyalign.translate.base import TranslationError, Translator

ENGINES = ("argos", "apertium")


def choose(source: str, target: str, engine: str | None = None, cache: bool = True) -> Translator:
    """A Translator from ``source`` to ``target`` (polyalign's codes: nb, es, en), wrapped in the on-disk
    translation cache unless ``cache`` is False. ``engine`` names one of ``ENGINES``; None picks the best
    installed. Raises TranslationError saying what to install when nothing fits."""
    if source == target:
        raise TranslationError(f"source and target are both '{source}': nothing to translate")
    if engine is not None and engine not in ENGINES:
        raise TranslationError(f"unknown translation engine '{engine}'; known: {', '.join(ENGINES)}")
    translator = _named(engine, source, target) if engine else _best(source, target)
    if not cache:
        return translator
    from polyalign.translate.cache import CachedTranslator

    return CachedTranslator(translator)


def _named(engine: str, source: str, target: str) -> Translator:
    if engine == "apertium":
        from polyalign.translate.apertium import ApertiumTranslator

        return ApertiumTranslator(source, target)
    translator = _argos(source, target, quiet=False)
    if translator is None:
        raise TranslationError(_argos_advice(source, target))
    return translator


def _best(source: str, target: str) -> Translator:
    from polyalign.translate import apertium

    translator = _argos(source, target, quiet=True)
    if translator is not None:
        return translator
    if apertium.available(source, target):
        return apertium.ApertiumTranslator(source, target)
    advice = _argos_advice(source, target)
    if (source, target) in apertium.MODES:
        advice += f"; or install Apertium: {apertium.INSTALL}"
    raise TranslationError(advice)


def _argos(source: str, target: str, quiet: bool) -> Translator | None:
    """argos's translator for the pair, or None. ``quiet``: while choosing, a broken argos counts as absent
    (the next engine may do); when argos was asked for by name, its error is the answer."""
    try:
        from polyalign.translate.argos import find_translator
    except ImportError:
        return None
    try:
        return find_translator(source, target)
    except ImportError:
        return None
    except TranslationError:
        if quiet:
            return None
        raise


def _argos_advice(source: str, target: str) -> str:
    try:
        from polyalign.translate.argos import needed_packages
    except ImportError:
        return (f"no Argos package translates {source}→{target} here (argostranslate is not installed); "
                f"install it (pip install argostranslate) and an Argos package (.argosmodel) for {source}→{target}")
    return needed_packages(source, target)
