# Ten sigmoid hidden layers on MNIST-sized inputs.
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([keras.Input(shape=(784,))])
for _ in range(10):
    model.add(layers.Dense(256, activation="sigmoid"))
model.add(layers.Dense(10, activation="softmax"))
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
