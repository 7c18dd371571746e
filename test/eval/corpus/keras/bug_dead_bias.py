# The first ReLU layer's biases start at -5.
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential()
model.add(layers.Dense(128, activation="relu", input_shape=(784,),
                       bias_initializer=keras.initializers.Constant(-5.0)))
model.add(layers.Dense(64, activation="relu"))
model.add(layers.Dense(10, activation="softmax"))
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
