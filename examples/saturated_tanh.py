# Demonstrates saturated units: tanh layers initialised with a standard deviation of 1.0
# (instead of ~1/sqrt(fan_in)) push most pre-activations far past +-5, where tanh is flat.
from tensorflow import keras
from tensorflow.keras import layers

big_init = keras.initializers.RandomNormal(stddev=1.0)

model = keras.Sequential([
    keras.Input(shape=(784,)),
    layers.Dense(256, activation="tanh", kernel_initializer=keras.initializers.RandomNormal(stddev=1.0)),
    layers.Dense(256, activation="tanh", kernel_initializer=big_init),
    layers.Dense(10, activation="softmax"),
])

model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
