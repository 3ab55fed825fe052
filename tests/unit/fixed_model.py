"""A stand-in for the learned classifier with a fixed answer, so that routing's placement
rules are tested on their own (the shipped model is scored by bench.corpus_report)."""

from __future__ import annotations

from dataclasses import dataclass

from xinfang_shared.classifier import Result


@dataclass(frozen=True)
class Fixed:
    """Answers every text with ``ranked`` (category, probability), most probable first."""

    ranked: tuple[tuple[str, float], ...]
    abstain: bool = False
    accusation: bool = False
    legal: bool = False

    def classify(self, content: str, title: str = "") -> Result:
        top = self.ranked[0][0]
        return Result(
            ranked=self.ranked,
            abstain=self.abstain,
            accusation=self.accusation,
            legal=self.legal,
            category=None if self.abstain else top,
        )


def says(category: str, p: float = 0.9, *rest: tuple[str, float], **flags: bool) -> Fixed:
    """The model is sure enough of ``category`` (then the runners-up ``rest``)."""
    return Fixed(((category, p), *rest), **flags)


def unsure(*ranked: tuple[str, float], accusation: bool = False) -> Fixed:
    """The model abstains; ``ranked`` are its suggestions."""
    return Fixed(tuple(ranked), abstain=True, accusation=accusation)
