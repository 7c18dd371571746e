# An eight-layer sigmoid stack on 100 features, list style.
from keras import Sequential
from keras.layers import Dense

model = Sequential([
    Dense(128, activation="sigmoid", input_shape=(100,)),
    Dense(128, activation="sigmoid"),
    Dense(128, activation="sigmoid"),
    Dense(128, activation="sigmoid"),
    Dense(128, activation="sigmoid"),
    Dense(128, activation="sigmoid"),
    Dense(128, activation="sigmoid"),
    Dense(128, activation="sigmoid"),
    Dense(3, activation="softmax"),
])
model.compile(optimizer="adam", loss="categorical_crossentropy")
