"""The billet line twin: continuous caster, torch cut, hot stamping, camera, cooling bed.

Modules: :mod:`~twin.billet_line.billet_id` (the 11-character ID schema),
:mod:`~twin.billet_line.config_spec` (configuration keys and checks),
:mod:`~twin.billet_line.caster` (strands, cuts, heats),
:mod:`~twin.billet_line.stamping_station` (the stamping robot and its pins),
:mod:`~twin.billet_line.camera_station` (images and their labels),
:mod:`~twin.billet_line.cooling_bed`, :mod:`~twin.billet_line.line` (build the
line) and :mod:`~twin.billet_line.simulate` (run it into a run folder).
"""
