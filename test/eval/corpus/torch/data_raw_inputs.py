# A tanh classifier fed raw tabular features.
import torch
import torch.nn as nn

# activation-lens: data=../data/tabular_raw.csv target=label
model = nn.Sequential(
    nn.Linear(20, 64),
    nn.Tanh(),
    nn.Linear(64, 32),
    nn.Tanh(),
    nn.Linear(32, 2),
)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
