# A Keras functional model: a deep tanh chain with a large initialisation saturates.
# Try: npm run --silent diagnose -- examples/keras_functional.py
import keras
from keras import layers

inputs = keras.Input(shape=(64,))
x = layers.Dense(128, activation="tanh", kernel_initializer=keras.initializers.RandomNormal(stddev=1.0))(inputs)
x = layers.Dense(128, activation="tanh", kernel_initializer=keras.initializers.RandomNormal(stddev=1.0))(x)
x = layers.Dense(128, activation="tanh", kernel_initializer=keras.initializers.RandomNormal(stddev=1.0))(x)
x = layers.Dense(128, activation="tanh", kernel_initializer=keras.initializers.RandomNormal(stddev=1.0))(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs=inputs, outputs=outputs)
