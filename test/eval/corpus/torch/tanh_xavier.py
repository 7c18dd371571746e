# A tanh MLP initialised with Xavier, trained with RMSprop.
import torch
import torch.nn as nn


class TanhNet(nn.Module):
    def __init__(self, d_in=50, hidden=64, classes=5):
        super().__init__()
        self.hidden1 = nn.Linear(d_in, hidden)
        self.hidden2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, classes)
        for layer in [self.hidden1, self.hidden2, self.out]:
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        x = torch.tanh(self.hidden1(x))
        x = torch.tanh(self.hidden2(x))
        return self.out(x)


model = TanhNet()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
