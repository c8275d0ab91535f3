FROM python:3.12-slim
WORKDIR /app
ONBUILD COPY requirements.txt /app/
ONBUILD RUN pip install -r requirements.txt
ONBUILD COPY --chown=1000:1000 . /app
ONBUILD ENV APP_HOME=/app
onbuild run ["echo", "json trigger"]
ONBUILD   LABEL built-from=onbuild-base
CMD ["python", "app.py"]
