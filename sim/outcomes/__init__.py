"""Outcomes: kinds (plug-ins in :mod:`.kinds`), detectors (:mod:`.base`) and the recorder."""

from .base import Detection, Detector, ThresholdSpec, combine_order, compile_outcomes, label
from .recorder import FINAL_SAMPLE, ChunkResult, Recorder

__all__ = [
    "FINAL_SAMPLE",
    "ChunkResult",
    "Detection",
    "Detector",
    "Recorder",
    "ThresholdSpec",
    "combine_order",
    "compile_outcomes",
    "label",
]
