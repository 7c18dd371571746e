# Binary classifier trained on raw (unscaled) tabular features.
from tensorflow import keras
from tensorflow.keras import layers

# activation-lens: data=../data/tabular_raw.csv target=label
model = keras.Sequential([
    keras.Input(shape=(20,)),
    layers.Dense(32, activation="relu"),
    layers.Dense(16, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
