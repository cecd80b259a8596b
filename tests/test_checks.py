"""helpers._checks.as_matrix: the one validator the numerical helpers share."""
import numpy as np
import pytest

from helpers._checks import as_matrix


def test_keeps_float_precision_and_converts_ints():
    assert as_matrix(np.ones((3, 2), np.float32)).dtype == np.float32
    assert as_matrix(np.ones((3, 2), int)).dtype == np.float64
    assert as_matrix(np.ones((3, 2), np.float32), dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("bad,msg", [
    (np.ones(3), "2-D"),
    (np.ones((2, 2, 2)), "2-D"),
    (np.ones((3, 0)), "no columns"),
    (np.ones((0, 3)), "row"),
    (np.array([[1.0, np.nan]]), "NaN"),
    (np.array([[1.0, np.inf]]), "NaN or infinite"),
    (np.array([["a", "b"]]), "numeric"),
    (np.ones((2, 2)) * 1j, "real"),
])
def test_bad_input(bad, msg):
    with pytest.raises(ValueError, match=msg):
        as_matrix(bad, "H")


def test_min_rows_names_the_need():
    with pytest.raises(ValueError, match="needs at least 4"):
        as_matrix(np.ones((3, 2)), min_rows=4)


def test_as_int():
    from helpers._checks import as_int

    assert as_int(np.int64(3), "n") == 3 and type(as_int(np.int64(3), "n")) is int
    assert as_int(0, "steps", 0) == 0
    for bad in (True, 2.0, "3", None):
        with pytest.raises(ValueError, match="integer"):
            as_int(bad, "n")
    with pytest.raises(ValueError, match=">= 2"):
        as_int(1, "V", 2)
    with pytest.raises(ValueError, match="between 1 and 4"):
        as_int(5, "k", 1, 4)
