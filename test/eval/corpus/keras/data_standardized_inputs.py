# The same classifier on standardised features.
from tensorflow import keras
from tensorflow.keras import layers

# activation-lens: data=../data/tabular_standardized.csv target=label
model = keras.Sequential([
    keras.Input(shape=(20,)),
    layers.Dense(32, activation="relu"),
    layers.Dense(16, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
