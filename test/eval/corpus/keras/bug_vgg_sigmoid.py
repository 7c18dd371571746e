# The small VGG-style CNN, but with sigmoid activations everywhere.
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(16, 3, padding="same", activation="sigmoid"),
    layers.Conv2D(16, 3, padding="same", activation="sigmoid"),
    layers.MaxPooling2D(),
    layers.Conv2D(32, 3, padding="same", activation="sigmoid"),
    layers.Conv2D(32, 3, padding="same", activation="sigmoid"),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(64, activation="sigmoid"),
    layers.Dense(64, activation="sigmoid"),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
