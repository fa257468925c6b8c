# One image runs every Botdesk process (web, bot, worker, cron); docker-compose picks the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN python scripts/compile_translations.py
# PYTHONDONTWRITEBYTECODE keeps processes from writing .pyc files, so without this every process
# (each RQ worker, gunicorn worker, cron) would compile our sources again at start (~0.2 CPU-s).
RUN python -m compileall -q webapp botworker migrations config.py wsgi.py manage.py
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--worker-class", "gevent", "--workers", "3", "--worker-connections", "1000", "wsgi:app"]
