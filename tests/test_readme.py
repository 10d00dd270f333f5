"""The README's commands are the ones CI and users actually run."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(python -m pytest.*)$", readme, flags=re.M)
    assert len(commands) == 1
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[0] in ci_lines


def test_readme_example_runs(tmp_path, monkeypatch):
    block = re.search(r"## Example\n\n```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    block = block.replace("epochs=30", "epochs=1").replace("k=100", "k=5")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README example", "exec"), {})


def test_readme_anomaly_example_runs(tmp_path, monkeypatch, capsys):
    block = re.search(r"## Anomaly detection\n.*?```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(block.replace("epochs=100", "epochs=30"), "README anomaly example", "exec"), namespace)
    # What the comment promises: the other digits score higher than zeros.
    assert float(capsys.readouterr().out.split()[-1]) > 0.9
    assert 0 < namespace["flagged"].mean() < 1


def test_readme_codes_as_features_example_runs(tmp_path, monkeypatch, capsys):
    import keras

    block = re.search(r"## Codes as features\n.*?```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    keras.utils.set_random_seed(0)
    namespace = {}
    exec(compile(block, "README codes-as-features example", "exec"), namespace)
    printed = [line for line in capsys.readouterr().out.splitlines() if re.fullmatch(r"0\.\d+", line.strip())]
    # M2 with 10 labels per class, and DEC's clusters, are far above chance (0.1).
    assert len(printed) == 1 and float(printed[0]) > 0.6, printed
    scores = namespace["keras_ae"].evaluation.clustering_scores(namespace["y"], namespace["dec"].predict_clusters(
        namespace["x"]))
    assert scores["accuracy"] > 0.6 and scores["nmi"] > 0.6, scores


def test_readme_recommenders_and_documents_example_runs(tmp_path, monkeypatch, capsys):
    import numpy as np

    block = re.search(r"## Recommenders and documents\n.*?```python\n(.*?)```", (ROOT / "README.md").read_text(),
                      re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(block, "README recommenders-and-documents example", "exec"), namespace)
    out = capsys.readouterr().out
    rmse = float(re.search(r"^([0-9.]+) RMSE$", out, re.M).group(1))
    train, test = namespace["train"], namespace["test"]
    global_mean = float(np.sqrt(np.mean((test.data - train.data.mean()) ** 2)))
    assert rmse < global_mean, (rmse, global_mean)  # AutoRec learnt something about the users
    items, ratings = namespace["items"], namespace["ratings"]
    assert len(items) == 5 and np.all(np.diff(ratings) <= 0)  # best first
    assert not set(items) & set(train[0].indices)  # none of them already rated by user 0
    precision = eval(out.strip().splitlines()[-1])  # the printed {k: precision} dict
    # Bits of documents drawn from 8 topics: far above the 1/8 of a random ranking.
    assert precision[1] > 0.5 and precision[10] > 0.5, precision
