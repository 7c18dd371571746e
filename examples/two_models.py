# Demonstrates several models in one file: each is diagnosed separately, by variable name.
from tensorflow import keras
from tensorflow.keras import layers

sigmoid_net = keras.Sequential([
    keras.Input(shape=(784,)),
    layers.Dense(256, activation="sigmoid"),
    layers.Dense(256, activation="sigmoid"),
    layers.Dense(256, activation="sigmoid"),
    layers.Dense(10, activation="softmax"),
])

relu_net = keras.Sequential([
    keras.Input(shape=(784,)),
    layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
    layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
    layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
    layers.Dense(10, activation="softmax"),
])
