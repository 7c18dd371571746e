# ReLU MLP trained with plain SGD at a learning rate of 10.
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    keras.Input(shape=(784,)),
    layers.Dense(128, activation="relu"),
    layers.Dense(64, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=10.0),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
