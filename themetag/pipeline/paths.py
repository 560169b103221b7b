"""Where each stage writes. dvc.yaml names the same paths."""

from pathlib import Path

ARTIFACTS = Path("artifacts")
LABELS = ARTIFACTS / "labels.csv"
TEST_LABELS = ARTIFACTS / "test_labels.csv"
FOLDS = ARTIFACTS / "folds.json"
TEXTS = ARTIFACTS / "texts.csv"
ROW_ORIGIN = ARTIFACTS / "row_origin.csv"  # per labels.csv row: 1 if the model picked it (data/picked.csv)
DECISIONS = ARTIFACTS / "decisions.csv"  # the review ledger's decisions, normalised
EMBEDDINGS = ARTIFACTS / "embeddings"  # one .npy per encoder the spaces use, and index.json
ENCODER_CHOICE = (
    ARTIFACTS / "encoder_choice.json"
)  # (also params.ENCODER_CHOICE) the encoder_probe stage's choice for `model: auto`
ENCODER_DIR = ARTIFACTS / "encoder"  # encoders the encoder stage builds (all-mpnet-base-v2), and build.json
FEATURES_DIR = ARTIFACTS / "features"
TUNE_DIR = ARTIFACTS / "tune"
TUNE_FIRST_DIR = TUNE_DIR / "first"
TUNE_COSTLY_DIR = TUNE_DIR / "costly"
SCREEN_DIR = ARTIFACTS / "screen"  # the race (stage screen): every first-round candidate's portfolio per theme
SCREEN = SCREEN_DIR / "summary.json"  # values and decisions, per theme and candidate
SCREEN_SECONDS = SCREEN_DIR / "seconds.json"  # the time the screen spent per candidate
RECORD_IN = ARTIFACTS / "record.json"  # the tuning record (reuse.record) as expand_labels checked it, or none
REUSE_DIR = ARTIFACTS / "reuse"  # stage reuse: refits of the recorded settings, and what is left to tune
REUSE = REUSE_DIR / "summary.json"  # per theme: refit or tune, and why
REUSE_OOF = REUSE_DIR / "oof.csv"  # the refitted themes' out-of-fold scores
REUSE_MODELS = REUSE_DIR / "models.joblib"  # their fold models, which train_final's bag takes as they are
PLAN_DIR = REUSE_DIR / "plan"  # one <candidate>.json per candidate: the studies its stage must run
RECORD_OUT = ARTIFACTS / "tuning_record.json"  # the next record (select); `themetag keep-tuning` copies it
SELECTION = ARTIFACTS / "selection.json"
SELECTED_OOF = ARTIFACTS / "selected_oof.csv"
THRESHOLDS = ARTIFACTS / "thresholds.json"
FINAL_MODELS = ARTIFACTS / "final_models.json"  # what train_final pickled into BUNDLE; package adds thresholds
TEST_SCORES = ARTIFACTS / "test_scores.csv"  # the bundle's scores of data/test.csv (evaluate)
MODELS = Path("models")
BUNDLE = MODELS / "bundle.joblib"
BUNDLE_MANIFEST = BUNDLE.with_suffix(".json")  # what bundle.manifest_path(BUNDLE) gives
MODEL_CARD = BUNDLE.with_suffix(".md")
METRICS = Path("metrics")
THEME_REPORT = METRICS / "themes.json"
THEME_REPORT_MD = METRICS / "themes.md"
TUNING_METRICS = METRICS / "tuning.json"
ENCODING_METRICS = METRICS / "encoding.json"
ENCODER_PROBE_METRICS = METRICS / "encoder_probe.json"  # the probe's figures per theme and encoder
METRICS_JSON = METRICS / "metrics.json"
RESULTS_MD = METRICS / "results.md"
LABEL_REVIEW = METRICS / "label_review.csv"
LABEL_REVIEW_MD = METRICS / "label_review.md"
LABEL_NEXT = METRICS / "label_next.csv"
LABEL_NEXT_TASKS = METRICS / "label_next.json"  # the same batch as Label Studio import tasks
LABEL_NEXT_MD = METRICS / "label_next.md"
PR_CV_DIR = METRICS / "pr_cv"
PR_TEST_DIR = METRICS / "pr_test"
REPORT_MD = METRICS / "report.md"
ERRORS_MD = METRICS / "errors.md"
ERRORS_CSV = METRICS / "errors.csv"
CONFUSIONS_CSV = METRICS / "confusions.csv"
PLOTS_DIR = METRICS / "plots"
SCORES_PLOTS = PLOTS_DIR / "scores"  # per theme: out-of-fold score distribution of positives and negatives
SWEEP_PLOTS = PLOTS_DIR / "threshold"  # per theme: out-of-fold precision and recall against the threshold
CONFUSION_PLOT = PLOTS_DIR / "confusions.json"
LEARNING_CURVE = METRICS / "learning_curve.json"  # per theme: the measured curve, its forecast and verdict
LEARNING_CURVES_DIR = METRICS / "learning_curves"  # per theme: the curve and its band, for dvc plots


def features_file(space: str) -> Path:
    return FEATURES_DIR / f"{space}.joblib"


def tune_dir(candidate: str, costly: bool = False) -> Path:
    """``candidate`` is ``<family>-<space>``, the suffix of its ``tune@`` (or ``tune_costly@``) stage."""
    return (TUNE_COSTLY_DIR if costly else TUNE_FIRST_DIR) / candidate


def screen_file(candidate: str) -> Path:
    """One candidate's race decisions: the only part of the screen its ``tune@`` stage depends on,
    so a change elsewhere in the race reruns no tune stage whose own decisions stay the same."""
    return SCREEN_DIR / f"{candidate}.json"


def plan_file(candidate: str) -> Path:
    """The themes (and their studies) one candidate's tune stage runs: its only data dependency,
    so a round whose themes are all refitted reruns no tune stage."""
    return PLAN_DIR / f"{candidate}.json"
