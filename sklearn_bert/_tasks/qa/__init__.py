"""Extractive question answering: :class:`BertQuestionAnswerer`, its windows,
answers and SQuAD metrics."""
