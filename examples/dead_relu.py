# Demonstrates dying ReLUs: the hidden layer's bias starts at -3, so almost every unit's
# pre-activation is negative, its output is 0 and no gradient ever reaches it.
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        layers.Dense(
            256,
            activation="relu",
            bias_initializer=keras.initializers.Constant(-3.0),
        ),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ]
)

model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
