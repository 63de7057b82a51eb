"""Calibration: fit chosen parameters of a scenario to targets (``loyalty-sim calibrate``).

- :mod:`sim.calibration.spec` — :class:`Calibration`, :class:`FreeParam`, :class:`Target`, the
  objective and the seeds;
- :mod:`sim.calibration.facts` — checks of the validation facts as targets (``fact = "F6"``);
- :mod:`sim.calibration.files` — calibration files (:func:`load_calibration`), errors as for
  experiment files;
- :mod:`sim.calibration.study` — the Optuna study in the results folder (:func:`run_study`,
  resumable), the best set re-run on fresh seeds (:func:`check_best`);
- :mod:`sim.calibration.report` — ``best.toml`` and ``report.md`` (:func:`write_outputs`).

:func:`calibrate` does all of it::

    from sim.calibration import calibrate, load_calibration
    result = calibrate(load_calibration("scenarios/experiments/calibration/trust.toml"), "results/cal", trials=8)
"""

from .files import CALIBRATION_KEYS, TARGET_KEYS, load_calibration, parse_calibration
from .report import CalibrationResult, calibrate, write_outputs
from .spec import AT, TARGET_KINDS, Calibration, FreeParam, Target, objective, observe
from .study import FORMAT, StudyOutcome, achieved_values, check_best, run_study, run_trial, trials_table

__all__ = ["CALIBRATION_KEYS", "TARGET_KEYS", "load_calibration", "parse_calibration",
           "CalibrationResult", "calibrate", "write_outputs",
           "AT", "TARGET_KINDS", "Calibration", "FreeParam", "Target", "objective", "observe",
           "FORMAT", "StudyOutcome", "achieved_values", "check_best", "run_study", "run_trial", "trials_table"]
