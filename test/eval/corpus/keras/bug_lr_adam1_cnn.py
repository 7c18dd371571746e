# Small CNN trained with Adam at a learning rate of 1.
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(16, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Conv2D(32, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(64, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
opt = keras.optimizers.Adam(learning_rate=1.0)
model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
