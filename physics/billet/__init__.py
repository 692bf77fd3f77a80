"""Billet line physics: hot stamping of an 11-character ID into a billet's end face.

One concept per module (pure numpy/scipy; no simpy, torch or PIL):

* :mod:`~physics.billet.steel` — grades (Hensel–Spittel coefficients, thermal data).
* :mod:`~physics.billet.flow_stress` — hot flow stress σ_f(T, φ, φ̇).
* :mod:`~physics.billet.surface_cooling` — end-face temperature after the torch cut.
* :mod:`~physics.billet.scale` — oxide scale growth along that cooling.
* :mod:`~physics.billet.characters` — the alphabet and each punch's ridge length.
* :mod:`~physics.billet.indentation` — depth of one character punch.
* :mod:`~physics.billet.visibility` — well / partial / poor per character.
* :mod:`~physics.billet.stamping` — the batch model the twin calls.
"""
from physics.billet.stamping import (NOMINAL_STAMP_FORCE_KN, VISIBILITY, StampingModel, StampParams,
                                     StampResult)
from physics.billet.steel import C45, S355J2, STEELS, SteelGrade, get_steel

__all__ = ["C45", "NOMINAL_STAMP_FORCE_KN", "S355J2", "STEELS", "StampParams", "StampResult", "StampingModel",
           "SteelGrade", "VISIBILITY", "get_steel"]
