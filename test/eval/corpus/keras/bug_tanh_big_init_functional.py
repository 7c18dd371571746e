# Functional model: every tanh layer starts with N(0, 2^2) weights.
import tensorflow as tf

init = tf.keras.initializers.RandomNormal(stddev=2.0)
inp = tf.keras.Input(shape=(100,))
h = tf.keras.layers.Dense(128, activation="tanh", kernel_initializer=init, name="enc1")(inp)
h = tf.keras.layers.Dense(128, activation="tanh", kernel_initializer=init, name="enc2")(h)
out = tf.keras.layers.Dense(4, activation="softmax", name="head")(h)
model = tf.keras.Model(inp, out)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
