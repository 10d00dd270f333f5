"""Trains and saves the feature networks of keras_ae.sample_quality.

The "FID on MNIST features" and the precision and recall of
``keras_ae.sample_quality`` read the features of a small CNN classifier
trained on the dataset itself. This script trains it once per dataset and
saves it where ``keras_ae.sample_quality.load_feature_network`` looks:
``$KERAS_HOME/datasets/feature_networks/{dataset}_classifier.keras``
(``~/.keras/...`` when ``KERAS_HOME`` is not set). The dataset files must be
in the Keras cache (see ``data/README.md``).

Usage (from the repository root):

```
python tools/train_feature_network.py --dataset mnist --epochs 3
python tools/train_feature_network.py --dataset mnist fashion_mnist
```

For each dataset it prints the test accuracy, the training time and the file
written. An existing file is replaced only once the new one is complete.
"""

import argparse
import sys
import time

DATASETS = ("mnist", "fashion_mnist", "digits")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", nargs="+", choices=DATASETS, default=["mnist"],
                        help="one or more datasets (default: mnist)")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs (default: 3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--path", default=None,
                        help="the .keras file to write (one dataset only; default: the Keras cache)")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=2, help="Keras' fit verbosity (default: 2)")
    args = parser.parse_args(argv)
    if args.path is not None and len(args.dataset) > 1:
        parser.error("--path needs a single --dataset")
    return args


def main(argv=None):
    args = parse_args(argv)
    from keras_ae import sample_quality

    for dataset in args.dataset:
        start = time.perf_counter()
        result = sample_quality.train_feature_network(
            dataset, epochs=args.epochs, seed=args.seed, path=args.path, verbose=args.verbose
        )
        seconds = time.perf_counter() - start
        print(f"{dataset}: test accuracy {result.test_accuracy:.4f} after {args.epochs} epochs "
              f"({seconds:.0f} s); wrote {result.path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
