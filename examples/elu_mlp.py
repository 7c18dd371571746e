# Demonstrates ELU: zero-centred outputs and no dead units, at the cost of an exponential per
# negative input. Gradients stay healthy through the stack.
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential()
model.add(keras.Input(shape=(784,)))
for _ in range(4):
    model.add(layers.Dense(256, activation="elu", kernel_initializer="he_normal"))
model.add(layers.Dense(10, activation="softmax"))

model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
