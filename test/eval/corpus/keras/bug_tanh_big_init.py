# tanh layer whose weights are drawn with a standard deviation of 1.0 (784 inputs).
from tensorflow import keras
from tensorflow.keras import layers, initializers

model = keras.Sequential([
    keras.Input(shape=(784,)),
    layers.Dense(256, activation="tanh",
                 kernel_initializer=initializers.RandomNormal(mean=0.0, stddev=1.0)),
    layers.Dense(128, activation="tanh"),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
