# A small VGG-style CNN: two blocks of two 3x3 convolutions, then a dense classifier.
from tensorflow import keras
from tensorflow.keras import layers


def conv_block(filters):
    return [
        layers.Conv2D(filters, (3, 3), padding="same", activation="relu", kernel_initializer="he_uniform"),
        layers.Conv2D(filters, (3, 3), padding="same", activation="relu", kernel_initializer="he_uniform"),
        layers.MaxPooling2D((2, 2)),
    ]


model = keras.Sequential(
    [keras.Input(shape=(28, 28, 1))]
    + conv_block(16)
    + conv_block(32)
    + [
        layers.Flatten(),
        layers.Dense(64, activation="relu", kernel_initializer="he_uniform"),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ]
)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
