# The output layer uses ReLU but the loss is a cross-entropy over 10 classes.
from tensorflow import keras

model = keras.models.Sequential()
model.add(keras.layers.Dense(64, activation="relu", input_shape=(64,)))
model.add(keras.layers.Dense(10, activation="relu"))
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
