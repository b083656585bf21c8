"""California housing split and preprocessing shared by the peer benchmarks (the service's quality bar).

Rows whose 0-based index % 5 != 0 train, the rest are scored. Numeric columns: median impute and standardise,
fitted on the training rows; ocean_proximity one-hot (a category unseen in training encodes as all zeros).
"""
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

TARGET = "median_house_value"
CATEGORICAL = ["ocean_proximity"]


def load_split(path):
    frame = pd.read_csv(path)
    test = frame.index % 5 == 0
    features = [c for c in frame.columns if c != TARGET]
    return (frame.loc[~test, features], frame.loc[~test, TARGET].to_numpy(dtype=float),
            frame.loc[test, features], frame.loc[test, TARGET].to_numpy(dtype=float))


def preprocessor(columns):
    numeric = [c for c in columns if c not in CATEGORICAL]
    return ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), CATEGORICAL),
    ])
