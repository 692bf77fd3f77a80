"""good / defect_type / defect_* from pass-fail and reason columns."""
from __future__ import annotations

import pyarrow.parquet as pq

from tests.ingest.helpers import write
from twin.ingest import ingest_molding

LOG = (
    "id,ok,why\n"
    "1,0,None\n"
    "2,1,가스\n"
    "3,1,초기허용불량\n"
    "4,1,None\n"
    "5,,None\n"
    "6,0,미성형\n"
)
MAPPING = '''
[id]
column = "id"
[time]
column = "id"
format = "epoch_s"
[label]
column = "ok"
good_values = [0]
bad_values = [1]
reason_column = "why"
no_reason = ["None"]
reasons = { "가스" = "burn_marks", "미성형" = "short_shot", "초기허용불량" = "startup_reject" }
'''


def _run(tmp_path, log=LOG, mapping=MAPPING):
    src, mp = write(tmp_path, log, mapping)
    return pq.read_table(ingest_molding(src, mp, tmp_path / "run") / "cycles.parquet").to_pydict()


def test_labels(tmp_path):
    t = _run(tmp_path)
    assert t["good"] == [True, False, False, False, None, True]
    # a reason outside DEFECT_TYPES: bad, defect_type is the mapped name, all defect_* false
    assert t["defect_type"] == ["good", "burn_marks", "startup_reject", None, None, "good"]
    assert t["defect_burn_marks"] == [False, True, False, None, None, False]
    assert t["defect_short_shot"] == [False, False, False, None, None, False]
    assert t["defect_flash"] == [False, False, False, None, None, False]


def test_reason_column_alone_and_unmapped_reasons_kept(tmp_path):
    mapping = MAPPING.replace('column = "ok"\ngood_values = [0]\nbad_values = [1]\n', "") + 'unmapped_reason = "keep"\n'
    log = "id,ok,why\n1,0,None\n2,0,흠집\n"
    t = _run(tmp_path, log, mapping)
    assert t["good"] == [True, False]
    assert t["defect_type"] == ["good", "흠집"]
    assert t["defect_sink_marks"] == [False, False]


def test_logs_without_labels_leave_them_null(tmp_path):
    mapping = MAPPING.split("[label]")[0]
    t = _run(tmp_path, mapping=mapping)
    assert set(t["good"]) == {None} and set(t["defect_type"]) == {None} and set(t["defect_flash"]) == {None}
