# Demonstrates vanishing gradients: nine sigmoid layers of width 256 stacked on MNIST-sized
# inputs. The first layers receive gradients orders of magnitude smaller than the last ones.
from tensorflow import keras
from tensorflow.keras import layers

HIDDEN_UNITS = 256
DEPTH = 9

model = keras.Sequential(
    [keras.Input(shape=(784,))]
    + [layers.Dense(HIDDEN_UNITS, activation="sigmoid") for _ in range(DEPTH)]
    + [layers.Dense(10, activation="softmax")],
    name="deep_sigmoid",
)

model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
