# Multi-label tagging (5 independent tags) with a softmax head under binary cross-entropy.
from tensorflow import keras
from tensorflow.keras import layers

inputs = keras.Input(shape=(40,))
x = layers.Dense(64, activation="relu")(inputs)
x = layers.Dense(32, activation="relu")(x)
outputs = layers.Dense(5, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="binary_crossentropy")
