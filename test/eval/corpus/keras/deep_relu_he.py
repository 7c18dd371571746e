# A deeper ReLU MLP (8 hidden layers) with He initialisation.
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential(name="deep_relu")
model.add(keras.Input(shape=(64,)))
for i in range(8):
    model.add(layers.Dense(128, activation="relu", kernel_initializer="he_normal"))
model.add(layers.Dense(10, activation="softmax"))
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
